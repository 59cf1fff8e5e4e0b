// The default sequential model: one token bucket per key, using the state
// machine's own refill math (src/ratelimit) so checker and replicas agree on
// every unit. Integer units: 1 token = windowMs units, refill units per ms.
//
// The state is the set of levels the bucket may hold, [lo, hi]. Known
// answers narrow it; with only stamped or known ops it stays one exact level.
// Width comes from increments whose outcome is unknown and whose stamp is
// unknown: such an op took effect at some time between its neighbours in the
// order, which a single level cannot express.
import { levelAt } from '../ratelimit/bucket.js'
import { assertValidPolicy, capacityUnits, type Policy } from '../ratelimit/policy.js'
import type { Op } from './history.js'
import { hull, intersect, withRemaining, type LevelRange } from './level-range.js'
import type { BucketModel } from './model.js'

export type TokenBucketState = {
  /** Possible levels in units (1 token = windowMs units), inclusive. */
  readonly lo: number
  readonly hi: number
  /** Time the levels were measured at; null until some op carried a stamp. */
  readonly at: number | null
  /** Units taken by unstamped unknown increments at unknown times after `at`. */
  readonly pending: number
}

export type TokenBucketModelOptions = {
  /**
   * When an increment with unknown outcome and no stamp takes effect.
   * 'anytime' (default): anywhere between the ops before and after it; its
   * cost settles at the next op. 'zero-elapsed': at the previous op's time.
   * The latter is simpler but rejects correct histories where the op ran
   * after the bucket had refilled (e.g. 2% timeouts in a 2,000-op history).
   */
  unstampedUnknown?: 'anytime' | 'zero-elapsed'
  /**
   * 'clamp' (default): an op stamped before the last one takes effect at the
   * last one, as the state machine's max(stamp, last) does with raw leader
   * stamps. 'ordered': stamps are the effective ones the state machine used,
   * which never go back along the log, so an op stamped before the last is
   * not a possible next op. Stricter and much faster when many ops have
   * unknown outcomes but known stamps; wrong if stamps are raw leader clocks.
   */
  stamps?: 'clamp' | 'ordered'
}

/** An op's time: its stamp, never before the last (stamps are made monotonic); unstamped: the last. */
function effectiveTime(state: TokenBucketState, op: Op): number | null {
  if (op.stamp === undefined) return state.at
  return state.at === null ? op.stamp : Math.max(op.stamp, state.at)
}

export function tokenBucketModel(policy: Policy, opts: TokenBucketModelOptions = {}): BucketModel<TokenBucketState> {
  assertValidPolicy(policy)
  const unit = policy.windowMs
  const cap = capacityUnits(policy)
  const anytime = (opts.unstampedUnknown ?? 'anytime') === 'anytime'
  const ordered = opts.stamps === 'ordered'

  const refill = (level: number, from: number | null, to: number | null): number =>
    from === null || to === null || to === from
      ? level
      : // levelAt never reads fullAt; the bucket is built only to reuse the real refill math.
        levelAt({ level, stamp: from, windowMs: unit, fullAt: Infinity }, policy, to)

  /** Possible levels at `t` once pending takes are paid, or undefined if they cannot all have been admitted. */
  function settle(s: TokenBucketState, t: number | null): LevelRange | undefined {
    const lo = refill(s.lo, s.at, t)
    const hi = refill(s.hi, s.at, t)
    if (s.pending === 0) return { lo, hi }
    // Before the first stamp there is no clock: takes pending then may have
    // happened any time earlier, so the gap to the first stamp is unbounded.
    const dt = t === null ? 0 : s.at === null ? Infinity : t - s.at
    // Least left: every take as late as possible. Most left: every take as
    // early as possible, then refill. Infeasible if even the most cannot pay.
    // (refill * dt may pass 2^53, hence comparisons against a need, not sums.)
    if (policy.refill * dt < s.pending - s.hi) return undefined
    const most = policy.refill * dt >= cap + s.pending - s.hi ? cap : s.hi + policy.refill * dt - s.pending
    return { lo: Math.max(0, lo - s.pending), hi: most }
  }

  return {
    init: () => ({ lo: cap, hi: cap, at: null, pending: 0 }),
    step(s, op) {
      const fail = { ok: false, next: s }
      if (op.kind === 'increment' && op.outcome === 'unknown' && op.stamp === undefined && anytime) {
        return { ok: true, next: { ...s, pending: s.pending + op.cost * unit } }
      }
      if (ordered && op.stamp !== undefined && s.at !== null && op.stamp < s.at) return fail
      const t = effectiveTime(s, op)
      const now = settle(s, t)
      if (now === undefined) return fail
      if (op.kind === 'check') {
        // A read writes nothing to the log: the state (and its clock) stays as is.
        if (op.outcome === 'unknown') return { ok: true, next: s }
        const verdict = op.outcome.admitted ? intersect(now, unit, cap) : intersect(now, 0, unit - 1)
        return { ok: withRemaining(verdict, op.outcome.remaining, unit) !== undefined, next: s }
      }
      const want = op.cost * unit
      const admitted = now.hi >= want ? { lo: Math.max(now.lo, want) - want, hi: now.hi - want } : undefined
      const rejected = intersect(now, 0, want - 1)
      const after =
        op.outcome === 'unknown'
          ? hull(admitted, rejected)
          : withRemaining(op.outcome.admitted ? admitted : rejected, op.outcome.remaining, unit)
      if (after === undefined) return fail
      return { ok: true, next: { lo: after.lo, hi: after.hi, at: t, pending: 0 } }
    },
    hash: (s) => `${s.lo}-${s.hi}@${s.at ?? '-'}+${s.pending}`,
  }
}
