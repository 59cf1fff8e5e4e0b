// Sets of possible bucket levels, as inclusive integer intervals. Every
// bucket operation (refill, take, compare, floor to whole tokens) maps an
// interval to an interval, so tracking [lo, hi] loses nothing when levels
// are exact and stays sound (only ever larger) when they are not.

export type LevelRange = { readonly lo: number; readonly hi: number }

export function range(lo: number, hi: number): LevelRange | undefined {
  return lo <= hi ? { lo, hi } : undefined
}

export function intersect(r: LevelRange | undefined, lo: number, hi: number): LevelRange | undefined {
  return r === undefined ? undefined : range(Math.max(r.lo, lo), Math.min(r.hi, hi))
}

/** Smallest interval holding both (either may be absent). */
export function hull(a: LevelRange | undefined, b: LevelRange | undefined): LevelRange | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) }
}

/** Levels that report `remaining` whole tokens (floor(level / unit)). */
export function withRemaining(r: LevelRange | undefined, remaining: number, unit: number): LevelRange | undefined {
  return intersect(r, remaining * unit, remaining * unit + unit - 1)
}
