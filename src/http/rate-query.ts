// Query-string validation for the rate routes. Every failure is a
// RateLimiterError with a stable 400 code, raised before the service is called.
import { z } from 'zod'
import { RateLimiterError, type ErrorCode } from '../errors.js'
import type { IncrementInput } from '../service.js'

const clientIdSchema = z.string().min(1).max(256)
const requestIdSchema = z.string().min(1).max(128)
// Digits only: rejects "1.5", "-1", "+1", "1e3" and " 1" that Number() would accept.
// A huge digit string becomes Infinity, which is a valid cost that exceeds any burst.
const costSchema = z.string().regex(/^\d+$/).transform(Number).refine((n) => n >= 1)

const INCREMENT_PARAMETERS: ReadonlySet<string> = new Set(['client_id', 'cost', 'request_id'])
const CHECK_PARAMETERS: ReadonlySet<string> = new Set(['client_id'])

type Query = Readonly<Record<string, unknown>>

export function parseIncrementQuery(query: unknown, idempotencyKey: unknown, burst: number): IncrementInput {
  const q = asQuery(query)
  rejectUnknown(q, INCREMENT_PARAMETERS)
  const clientId = parseField(clientIdSchema, q['client_id'], 'INVALID_CLIENT_ID')
  const cost = q['cost'] === undefined ? 1 : parseField(costSchema, q['cost'], 'INVALID_COST')
  if (cost > burst) {
    const shown = Number.isSafeInteger(cost) ? String(cost) : 'too large'
    throw new RateLimiterError('COST_EXCEEDS_BURST', `cost ${shown} > burst ${burst}`)
  }
  const requestId = parseRequestId(q['request_id'], idempotencyKey)
  return requestId === undefined ? { clientId, cost } : { clientId, cost, requestId }
}

export function parseCheckQuery(query: unknown): string {
  const q = asQuery(query)
  rejectUnknown(q, CHECK_PARAMETERS)
  return parseField(clientIdSchema, q['client_id'], 'INVALID_CLIENT_ID')
}

function asQuery(query: unknown): Query {
  return typeof query === 'object' && query !== null ? (query as Query) : {}
}

function rejectUnknown(q: Query, allowed: ReadonlySet<string>): void {
  for (const name in q) {
    if (!allowed.has(name)) throw new RateLimiterError('UNKNOWN_PARAMETER', JSON.stringify(name.slice(0, 64)))
  }
}

function parseField<T>(schema: z.ZodType<T, string>, value: unknown, code: ErrorCode): T {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  throw new RateLimiterError(code, describeBadValue(value))
}

/** request_id in the query, or the Idempotency-Key header (IETF draft: may be a quoted sf-string). */
function parseRequestId(fromQuery: unknown, fromHeader: unknown): string | undefined {
  const header = typeof fromHeader === 'string' ? unquote(fromHeader) : fromHeader
  const query = fromQuery === undefined ? undefined : parseField(requestIdSchema, fromQuery, 'INVALID_REQUEST_ID')
  const key = header === undefined ? undefined : parseField(requestIdSchema, header, 'INVALID_REQUEST_ID')
  if (query !== undefined && key !== undefined && query !== key) {
    throw new RateLimiterError('INVALID_REQUEST_ID', 'request_id and Idempotency-Key differ')
  }
  return query ?? key
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s
}

// Says what was wrong without echoing a possibly huge or hostile value.
function describeBadValue(value: unknown): string {
  if (value === undefined) return 'missing'
  if (Array.isArray(value)) return 'given more than once'
  if (typeof value !== 'string') return 'not a string'
  if (value.length > 32) return `got ${value.length} characters`
  return `got ${JSON.stringify(value)}`
}
