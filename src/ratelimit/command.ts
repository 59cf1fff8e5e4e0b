// The log entry payload. Compact positional JSON keeps entries small and
// JSON escaping round-trips any string, including lone surrogates.
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

/** Why `cmd` cannot be applied, or undefined when it can. */
export function commandProblem(cmd: IncrementCommand): string | undefined {
  if (typeof cmd.key !== 'string' || cmd.key.length === 0) return 'key must be a non-empty string'
  const policy = policyProblem(cmd.policy)
  if (policy !== undefined) return policy
  if (!isIntIn(cmd.cost, 1, cmd.policy.burst)) return `cost must be an integer in 1..${cmd.policy.burst}`
  if (!isIntIn(cmd.stamp, 0, MAX_STAMP)) return `stamp must be an integer in 0..${MAX_STAMP}`
  if (cmd.requestId !== undefined && (typeof cmd.requestId !== 'string' || cmd.requestId.length === 0)) {
    return 'requestId must be a non-empty string'
  }
  return undefined
}

export function assertValidCommand(cmd: IncrementCommand): void {
  const problem = commandProblem(cmd)
  if (problem !== undefined) throw new Error(`invalid increment command: ${problem}`)
}

/** Encodes `[key,cost,stamp,refill,windowMs,burst(,requestId)]`; refuses an invalid command so none reaches the log. */
export function encodeCommand(cmd: IncrementCommand): string {
  assertValidCommand(cmd)
  const { key, cost, stamp, policy, requestId } = cmd
  const fields: (string | number)[] = [key, cost, stamp, policy.refill, policy.windowMs, policy.burst]
  if (requestId !== undefined) fields.push(requestId)
  return JSON.stringify(fields)
}

/** Inverse of encodeCommand; throws an Error naming the problem on malformed input. */
export function decodeCommand(s: string): IncrementCommand {
  let raw: unknown
  try {
    raw = JSON.parse(s)
  } catch {
    throw new Error('invalid increment command: not JSON')
  }
  if (!Array.isArray(raw) || (raw.length !== 6 && raw.length !== 7)) {
    throw new Error('invalid increment command: expected an array of 6 or 7 fields')
  }
  const [key, cost, stamp, refill, windowMs, burst, requestId] = raw as unknown[]
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
