// Waiters with deadlines, expired by the driver's tick instead of a timer per
// request: a timer and closure per request is measurable on the hot path.
export interface Waiter<T> {
  readonly deadline: number
  readonly resolve: (value: T) => void
  readonly reject: (err: unknown) => void
}

/** Rejects every waiter whose deadline has passed; returns the ones still live. */
export function expireWaiters<W extends Waiter<never>>(waiters: W[], now: number, onExpire: (w: W) => void): W[] {
  let kept: W[] | null = null
  for (let i = 0; i < waiters.length; i++) {
    const w = waiters[i] as W
    if (w.deadline <= now) {
      if (kept === null) kept = waiters.slice(0, i)
      onExpire(w)
    } else if (kept !== null) {
      kept.push(w)
    }
  }
  return kept ?? waiters
}
