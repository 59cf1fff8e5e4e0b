// Checks over what clients saw. During the run, after each acknowledged
// admitted increment: no over-admission on its key (I5). At the end, with
// the cluster healed and settled: every acknowledged increment is in the
// committed log (I3), and the history is linearizable (I4).
import { checkAdmission } from '../check/admission.js'
import type { Op } from '../check/history.js'
import { checkHistory } from '../check/linearizability.js'
import { tokenBucketModel } from '../check/token-bucket-model.js'
import type { Policy } from '../ratelimit/policy.js'
import { SimViolation } from './types.js'
import type { SimOp } from './workload.js'

export function toCheckOp(op: SimOp, stamp: number | undefined): Op {
  const base: Op = { id: op.id, clientId: op.clientId, key: op.key, kind: op.kind, cost: op.cost, call: op.call, ret: op.ret, outcome: op.outcome }
  return stamp === undefined ? base : { ...base, stamp }
}

/**
 * Over-admission only grows as ops are added, so checking a key every
 * `every`-th admitted op (and once at the end) finds every violation, a few
 * ops late, at a fraction of the cost of re-sorting after each one.
 */
export class AdmissionWatch {
  private readonly byKey = new Map<string, Op[]>()

  constructor(
    private readonly policy: Policy,
    private readonly every = 4,
  ) {}

  /** Called when an op closes; re-checks the op's key now and then if it was an admitted increment. */
  onClose(op: SimOp): void {
    if (op.kind !== 'increment' || op.outcome === 'unknown' || !op.outcome.admitted) return
    let ops = this.byKey.get(op.key)
    if (ops === undefined) {
      ops = []
      this.byKey.set(op.key, ops)
    }
    ops.push(toCheckOp(op, op.stamp))
    if (ops.length % this.every === 0) this.check(ops)
  }

  checkAll(): void {
    for (const ops of this.byKey.values()) this.check(ops)
  }

  private check(ops: Op[]): void {
    const r = checkAdmission(ops, this.policy)
    if (!r.ok) throw new SimViolation('no-over-admission', r.reason)
  }
}

export interface FinalLog {
  /** requestId -> effective stamp of its first apply, for every increment in the committed log. */
  readonly committed: ReadonlyMap<string, number>
}

export interface LinearizabilityStats {
  checkedOps: number
  /** Unknown increments that never reached the committed log: they did not happen. */
  droppedUnknown: number
  /** Keys where the search ran out of budget (inconclusive, not a failure). */
  inconclusiveKeys: number
}

/** I3: an acknowledged increment is never lost. */
export function checkDurability(ops: readonly SimOp[], log: FinalLog): void {
  for (const op of ops) {
    if (op.kind !== 'increment' || op.outcome === 'unknown') continue
    if (!log.committed.has(op.requestId)) {
      throw new SimViolation('durability', `acknowledged increment ${op.requestId} (${op.key}x${op.cost}, answered by ${op.answeredBy} at ${op.ret}) is not in the committed log`)
    }
  }
}

/** I4, on the settled history. */
export function checkLinearizable(ops: readonly SimOp[], log: FinalLog, policy: Policy, maxSteps: number): LinearizabilityStats {
  const stats: LinearizabilityStats = { checkedOps: 0, droppedUnknown: 0, inconclusiveKeys: 0 }
  const history: Op[] = []
  for (const op of ops) {
    if (op.outcome !== 'unknown') {
      history.push(toCheckOp(op, op.stamp))
      continue
    }
    if (op.kind === 'check') continue
    // After the final commit nothing outside the committed log can ever apply,
    // so an unknown increment either happened (at its known stamp) or never will.
    const stamp = log.committed.get(op.requestId)
    if (stamp === undefined) stats.droppedUnknown++
    else history.push(toCheckOp(op, stamp))
  }
  stats.checkedOps = history.length
  const r = checkHistory(history, tokenBucketModel(policy), { maxSteps })
  if (r.ok === false) throw new SimViolation('linearizability', r.reason)
  if (r.ok === 'unknown') stats.inconclusiveKeys++
  return stats
}
