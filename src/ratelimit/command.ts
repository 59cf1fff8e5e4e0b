// One increment, as the state machine applies it. Log entries carry them in
// batches (command-batch.ts); this file also reads the single-command entries
// that earlier versions wrote, `[key,cost,stamp,refill,windowMs,burst(,requestId)]`.
import { isIntIn } from './int-math.js'
import { MAX_STAMP, policyProblem, type Policy } from './policy.js'

export interface IncrementCommand {
  readonly key: string
  readonly cost: number
  /** Leader clock (ms since epoch) when proposed; apply never reads a clock. */
  readonly stamp: number
  readonly policy: Policy
  readonly requestId?: string
}

/** Why one item of a command cannot be applied under a policy of `burst`, or undefined when it can. */
export function itemProblem(key: unknown, cost: unknown, requestId: unknown, burst: number): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'key must be a non-empty string'
  if (!isIntIn(cost, 1, burst)) return `cost must be an integer in 1..${burst}`
  if (requestId !== undefined && (typeof requestId !== 'string' || requestId.length === 0)) {
    return 'requestId must be a non-empty string'
  }
  return undefined
}

/** Why a stamp cannot be applied, or undefined when it can. */
export function stampProblem(stamp: unknown): string | undefined {
  return isIntIn(stamp, 0, MAX_STAMP) ? undefined : `stamp must be an integer in 0..${MAX_STAMP}`
}

/** Why `cmd` cannot be applied, or undefined when it can. */
export function commandProblem(cmd: IncrementCommand): string | undefined {
  return policyProblem(cmd.policy) ?? itemProblem(cmd.key, cmd.cost, cmd.requestId, cmd.policy.burst) ?? stampProblem(cmd.stamp)
}

export function assertValidCommand(cmd: IncrementCommand): void {
  const problem = commandProblem(cmd)
  if (problem !== undefined) throw new Error(`invalid increment command: ${problem}`)
}

/** A single command from its positional fields (the pre-batch entry format); throws on anything invalid. */
export function commandFromFields(raw: readonly unknown[]): IncrementCommand {
  if (raw.length !== 6 && raw.length !== 7) throw new Error('invalid increment command: expected an array of 6 or 7 fields')
  const [key, cost, stamp, refill, windowMs, burst, requestId] = raw
  const cmd = {
    key,
    cost,
    stamp,
    policy: { refill, windowMs, burst },
    ...(raw.length === 7 ? { requestId } : {}),
  } as IncrementCommand
  // commandProblem checks every field's type, so the cast above is then true.
  assertValidCommand(cmd)
  return cmd
}
