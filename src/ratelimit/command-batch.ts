// The log entry payload: the increments one leader proposed in one event-loop
// turn, which share its stamp and policy. One entry per batch means one
// stored value, one checksum and one decode on every replica however many
// increments it carries. Encoded as compact positional JSON:
//   [stamp, refill, windowMs, burst, key, cost, requestId|null, key, cost, ...]
// JSON escaping round-trips any string, including lone surrogates.
import { commandFromFields, itemProblem, stampProblem, type IncrementCommand } from './command.js'
import { policyProblem, type Policy } from './policy.js'

export interface BatchItem {
  readonly key: string
  readonly cost: number
  readonly requestId?: string
}

export interface CommandBatch {
  /** Leader clock (ms since epoch) when proposed; apply never reads a clock. */
  readonly stamp: number
  readonly policy: Policy
  readonly items: readonly BatchItem[]
}

const HEADER_FIELDS = 4
const ITEM_FIELDS = 3

/** Why `batch` cannot be applied, or undefined when it can. Nothing of a batch with a problem is applied. */
export function batchProblem(batch: CommandBatch): string | undefined {
  const problem = policyProblem(batch.policy) ?? stampProblem(batch.stamp)
  if (problem !== undefined) return problem
  const { items } = batch
  if (!Array.isArray(items) || items.length === 0) return 'a batch needs at least one item'
  const burst = batch.policy.burst
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as BatchItem
    const p = itemProblem(item.key, item.cost, item.requestId, burst)
    if (p !== undefined) return `item ${i}: ${p}`
  }
  return undefined
}

export function assertValidBatch(batch: CommandBatch): void {
  const problem = batchProblem(batch)
  if (problem !== undefined) throw new Error(`invalid increment command: ${problem}`)
}

/** Encodes a batch; refuses an invalid one so none reaches the log. */
export function encodeCommandBatch(batch: CommandBatch): string {
  assertValidBatch(batch)
  const { stamp, policy, items } = batch
  const fields: (string | number | null)[] = [stamp, policy.refill, policy.windowMs, policy.burst]
  for (const item of items) fields.push(item.key, item.cost, item.requestId ?? null)
  return JSON.stringify(fields)
}

/**
 * Inverse of encodeCommandBatch. Also reads a single command as written
 * before batches (its first field is the key, a string), as a batch of one.
 * Throws an Error naming the problem on malformed input.
 */
export function decodeCommandBatch(s: string): CommandBatch {
  let raw: unknown
  try {
    raw = JSON.parse(s)
  } catch {
    throw new Error('invalid increment command: not JSON')
  }
  if (!Array.isArray(raw)) throw new Error('invalid increment command: expected an array')
  if (typeof raw[0] === 'string') return batchOfOne(commandFromFields(raw))
  const n = (raw.length - HEADER_FIELDS) / ITEM_FIELDS
  if (!Number.isInteger(n) || n < 1) throw new Error(`invalid increment command: expected ${HEADER_FIELDS} + ${ITEM_FIELDS}n fields, got ${raw.length}`)
  const [stamp, refill, windowMs, burst] = raw as unknown[]
  const items = new Array<BatchItem>(n)
  for (let i = 0, f = HEADER_FIELDS; i < n; i++, f += ITEM_FIELDS) {
    const key = raw[f] as unknown
    const cost = raw[f + 1] as unknown
    const requestId = raw[f + 2] as unknown
    // Checked whole by assertValidBatch below, which makes these casts true.
    items[i] = (requestId === null ? { key, cost } : { key, cost, requestId }) as BatchItem
  }
  const batch = { stamp, policy: { refill, windowMs, burst }, items } as CommandBatch
  assertValidBatch(batch)
  return batch
}

export function batchOfOne(cmd: IncrementCommand): CommandBatch {
  const item: BatchItem = cmd.requestId === undefined ? { key: cmd.key, cost: cmd.cost } : { key: cmd.key, cost: cmd.cost, requestId: cmd.requestId }
  return { stamp: cmd.stamp, policy: cmd.policy, items: [item] }
}
