// The shape of a recorded client history, shared by the simulator, the
// real-process tests and the checkers in this folder.

export type OpOutcome = { readonly admitted: boolean; readonly remaining: number }

export type Op = {
  readonly id: number
  readonly clientId: string | number
  readonly key: string
  readonly kind: 'increment' | 'check'
  /** Tokens asked for; 1 for checks. */
  readonly cost: number
  /** Invocation and response times, any monotonic unit. */
  readonly call: number
  /** Infinity when the outcome is unknown (timed out, connection lost). */
  readonly ret: number
  readonly outcome: OpOutcome | 'unknown'
  /** The leader-stamped ms the state machine used, when known. */
  readonly stamp?: number
}

/** An increment the cluster answered with a grant: its tokens are spent. */
export const admittedIncrement = (op: Op): boolean => op.kind === 'increment' && op.outcome !== 'unknown' && op.outcome.admitted

/** Ops grouped by key, each group in the order given (P-compositionality: keys are independent objects). */
export function partitionByKey(ops: readonly Op[]): Map<string, Op[]> {
  const byKey = new Map<string, Op[]>()
  for (const op of ops) {
    const group = byKey.get(op.key)
    if (group === undefined) byKey.set(op.key, [op])
    else group.push(op)
  }
  return byKey
}

/** One line naming an op, for failure reports. */
export function describeOp(op: Op): string {
  const outcome = op.outcome === 'unknown' ? 'unknown' : `${op.outcome.admitted ? 'admitted' : 'rejected'}/remaining=${op.outcome.remaining}`
  const stamp = op.stamp === undefined ? '' : ` stamp=${op.stamp}`
  return `op ${op.id} (client ${op.clientId} ${op.kind} cost=${op.cost} [${op.call}, ${op.ret}]${stamp} -> ${outcome})`
}
