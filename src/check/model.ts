// The sequential specification the linearizability checker tests against.
// Kept as a tiny interface so the checker does not depend on any one
// bucket implementation (tests plug in toy models too).
import type { Op } from './history.js'

export interface BucketModel<S> {
  /** State of a key nobody has touched yet. */
  init(): S
  /**
   * Apply `op` to `state`. `ok` says whether the op's recorded outcome is the
   * one the model produces (always true for an unknown outcome); `next` is the
   * state after it. Must not mutate `state`: the search backtracks to it.
   */
  step(state: S, op: Op): { ok: boolean; next: S }
  /** Equal strings iff the states behave the same from here on (memoization key). */
  hash(state: S): string
}
