// Wire format of POST /raft/forward: a follower hands its clients' increments
// to the leader and gets one outcome per increment back. Shared by both ends
// so they cannot drift. zod is fine here: one call per forwarded batch, not per
// Raft message.
import { z } from 'zod'
import { ERRORS, RateLimiterError, type ErrorCode } from '../errors.js'
import type { IncrementInput, RateDecision } from '../service.js'
import type { ForwardOutcome } from './port.js'

/** Bounds one request; a follower batching more than this sends several. */
export const MAX_FORWARD_BATCH = 10_000

const incrementInputSchema = z.object({
  clientId: z.string().min(1).max(256),
  cost: z.number().int().min(1),
  requestId: z.string().min(1).max(128).exactOptional(),
})

const forwardRequestSchema = z.array(incrementInputSchema).max(MAX_FORWARD_BATCH)

const count = z.number().int().min(0)
const rateDecisionSchema = z.object({
  result: z.boolean(),
  remaining: count,
  limit: count,
  refill: count,
  windowSec: z.number().min(0),
  resetSec: z.number().min(0),
  retryAfterSec: z.number().min(0),
})

const forwardResponseSchema = z.array(
  z.union([
    z.object({ ok: z.literal(true), decision: rateDecisionSchema }),
    z.object({ ok: z.literal(false), code: z.string() }),
  ]),
)

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code)
}

/** Only the known fields travel, whatever else the caller's objects carry. */
export function forwardInputsJson(inputs: readonly IncrementInput[]): object[] {
  return inputs.map((i) => (i.requestId === undefined ? { clientId: i.clientId, cost: i.cost } : { clientId: i.clientId, cost: i.cost, requestId: i.requestId }))
}

export function encodeForwardRequest(inputs: readonly IncrementInput[]): string {
  return JSON.stringify(forwardInputsJson(inputs))
}

/** Validates an already JSON-parsed body; throws RateLimiterError INVALID_PEER_MESSAGE. */
export function decodeForwardRequest(body: unknown): IncrementInput[] {
  const parsed = forwardRequestSchema.safeParse(body)
  if (!parsed.success) throw new RateLimiterError('INVALID_PEER_MESSAGE', z.prettifyError(parsed.error))
  return parsed.data
}

export function encodeForwardResponse(outcomes: readonly ForwardOutcome[]): string {
  return JSON.stringify(outcomes)
}

/**
 * Parses the leader's answer. A code this node does not know (a newer peer
 * during a rolling upgrade) becomes INTERNAL rather than failing the batch.
 * Throws RateLimiterError INTERNAL when the answer does not fit the request.
 */
export function decodeForwardResponse(body: string, expectedCount: number): ForwardOutcome[] {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw new RateLimiterError('INTERNAL', 'leader answered a forward with invalid JSON')
  }
  return forwardOutcomesOf(json, expectedCount)
}

/** decodeForwardResponse for an answer already parsed (it came inside a stream frame). */
export function forwardOutcomesOf(json: unknown, expectedCount: number): ForwardOutcome[] {
  const parsed = forwardResponseSchema.safeParse(json)
  if (!parsed.success) throw new RateLimiterError('INTERNAL', `malformed forward answer: ${z.prettifyError(parsed.error)}`)
  if (parsed.data.length !== expectedCount) {
    throw new RateLimiterError('INTERNAL', `leader answered ${parsed.data.length} outcomes for ${expectedCount} increments`)
  }
  return parsed.data.map((o): ForwardOutcome => {
    if (o.ok) return { ok: true, decision: o.decision satisfies RateDecision }
    return { ok: false, code: isErrorCode(o.code) ? o.code : 'INTERNAL' }
  })
}

/** The error body of a failed peer request, `{"error": CODE}`, if it names a known code. */
export function decodeErrorCode(body: string): ErrorCode | undefined {
  try {
    const json: unknown = JSON.parse(body)
    if (typeof json !== 'object' || json === null) return undefined
    const code = (json as { error?: unknown }).error
    return typeof code === 'string' && isErrorCode(code) ? code : undefined
  } catch {
    return undefined
  }
}
