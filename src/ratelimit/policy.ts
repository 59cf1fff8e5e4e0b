// A token-bucket policy. Limits keep every unit count (1 token = windowMs
// units) and every timestamp below 2^53, so bucket math stays exact:
//   capacity  <= MAX_BURST * MAX_WINDOW_MS         = 8.64e13
//   stamp + ms-to-full <= MAX_STAMP + capacity     < 8.65e15 < 2^53 (9.007e15)
import { isIntIn } from './int-math.js'

export interface Policy {
  /** Tokens added per window. */
  readonly refill: number
  readonly windowMs: number
  /** Capacity, in tokens. */
  readonly burst: number
}

export const MAX_BURST = 1_000_000
export const MAX_WINDOW_MS = 86_400_000
/** refill is units per ms; bounding it keeps `deficit + refill` exact. */
export const MAX_REFILL = 1_000_000_000
/** The largest time a Date can hold; leader stamps are ms since the epoch. */
export const MAX_STAMP = 8_640_000_000_000_000

/** Why `p` is not a usable policy, or undefined when it is. */
export function policyProblem(p: Policy): string | undefined {
  if (!isIntIn(p.refill, 1, MAX_REFILL)) return `refill must be an integer in 1..${MAX_REFILL}`
  if (!isIntIn(p.windowMs, 1, MAX_WINDOW_MS)) return `windowMs must be an integer in 1..${MAX_WINDOW_MS}`
  if (!isIntIn(p.burst, 1, MAX_BURST)) return `burst must be an integer in 1..${MAX_BURST}`
  return undefined
}

export function assertValidPolicy(p: Policy): void {
  const problem = policyProblem(p)
  if (problem !== undefined) throw new Error(`invalid policy: ${problem}`)
}

/** Capacity in units (1 token = windowMs units). */
export function capacityUnits(p: Policy): number {
  return p.burst * p.windowMs
}

export function samePolicy(a: Policy, b: Policy): boolean {
  return a.refill === b.refill && a.windowMs === b.windowMs && a.burst === b.burst
}
