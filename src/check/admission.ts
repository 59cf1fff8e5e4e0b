// I5, no over-admission: for every key, over every stamp interval [s1, s2]
// the acknowledged admitted cost is at most burst + refill*(s2-s1)/windowMs.
// Cheaper than I4 and independent of ordering guesses: one sort and a sweep.
// Exact: compared multiplied by windowMs, in BigInt (refill * epoch-ms stamps
// can pass 2^53).
import type { Policy } from '../ratelimit/policy.js'
import { admittedIncrement, partitionByKey, type Op } from './history.js'

export type AdmissionResult =
  | { ok: true; /** Acknowledged admitted increments skipped for lack of a stamp. */ unstamped: number }
  | {
      ok: false
      key: string
      reason: string
      /** The offending interval's first and last admitted ops. */
      from: Op
      to: Op
      admittedCost: number
      unstamped: number
    }

export function checkAdmission(ops: readonly Op[], policy: Policy): AdmissionResult {
  let unstamped = 0
  const stamped: Op[] = []
  for (const op of ops) {
    if (!admittedIncrement(op)) continue
    if (op.stamp === undefined) unstamped++
    else if (!Number.isSafeInteger(op.stamp) || !Number.isSafeInteger(op.cost)) {
      throw new RangeError(`op ${op.id}: stamp and cost must be integers for the exact check`)
    } else stamped.push(op)
  }
  for (const [key, keyOps] of partitionByKey(stamped)) {
    const bad = sweep(keyOps, policy)
    if (bad !== undefined) {
      const { from, to, cost } = bad
      const span = (to.stamp ?? 0) - (from.stamp ?? 0)
      const reason =
        `over-admission on key ${JSON.stringify(key)}: cost ${cost} admitted in stamps [${from.stamp}, ${to.stamp}] ` +
        `(ops ${from.id}..${to.id}), limit is burst ${policy.burst} + ${policy.refill} per ${policy.windowMs} ms over ${span} ms`
      return { ok: false, key, reason, from, to, admittedCost: cost, unstamped }
    }
  }
  return { ok: true, unstamped }
}

/**
 * With ops sorted by stamp s and prefix costs P, the pair i <= j violates iff
 *   (P[j+1]*W - r*s_j) - (P[i]*W - r*s_i) > burst*W,
 * so keeping the minimum of the second term while sweeping j checks all pairs.
 */
function sweep(ops: Op[], policy: Policy): { from: Op; to: Op; cost: number } | undefined {
  ops.sort((a, b) => (a.stamp ?? 0) - (b.stamp ?? 0))
  const W = BigInt(policy.windowMs)
  const r = BigInt(policy.refill)
  const limit = BigInt(policy.burst) * W
  let prefix = 0n // cost of ops before j
  let minB = 0n
  let minAt = 0
  let prefixAtMin = 0n
  for (let j = 0; j < ops.length; j++) {
    const op = ops[j]
    if (op === undefined) break
    const s = BigInt(op.stamp ?? 0)
    const b = prefix * W - r * s
    if (j === 0 || b < minB) {
      minB = b
      minAt = j
      prefixAtMin = prefix
    }
    prefix += BigInt(op.cost)
    if (prefix * W - r * s - minB > limit) {
      const from = ops[minAt]
      if (from === undefined) break
      return { from, to: op, cost: Number(prefix - prefixAtMin) }
    }
  }
  return undefined
}
