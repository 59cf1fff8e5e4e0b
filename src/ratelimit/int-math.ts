// Exact integer helpers. Float division alone can round a quotient across an
// integer boundary; every replica must get the same answer, so the quotient is
// corrected with exact integer products (all operands stay below 2^53).

/** true when `v` is an integer in [min, max]. */
export function isIntIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
}

/** floor(a / b) for integers a >= 0, b > 0. */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b)
  while (q * b > a) q--
  while ((q + 1) * b <= a) q++
  return q
}

/** ceil(a / b) for integers a >= 0, b > 0. */
export function ceilDiv(a: number, b: number): number {
  const q = floorDiv(a, b)
  return q * b === a ? q : q + 1
}

/**
 * floor(value * to / from), exactly. The product may exceed 2^53, so this
 * rare path (a policy whose window changed) uses BigInt.
 */
export function rescale(value: number, from: number, to: number): number {
  if (from === to) return value
  return Number((BigInt(value) * BigInt(to)) / BigInt(from))
}
