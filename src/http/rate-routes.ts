// POST /rate/increment and GET /rate/check: validate, ask the service, shape
// the answer (body + rate-limit headers). Bad input never reaches the service.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isRateLimiterError } from '../errors.js'
import type { RateDecision, RateLimiterService } from '../service.js'
import { remainingTokens, retryAfterHeaderValue, setRateHeaders, wholeSecondsUp } from './rate-headers.js'
import { parseCheckQuery, parseIncrementQuery } from './rate-query.js'
import { CHECK_RESPONSES, INCREMENT_RESPONSES } from './schemas.js'

export interface RateRoutesOptions {
  /** FAIL_MODE=open: admit (degraded) instead of 503 when the cluster cannot answer. */
  readonly failOpen: boolean
}

export function registerRateRoutes(app: FastifyInstance, service: RateLimiterService, options: RateRoutesOptions): void {
  const { failOpen } = options

  app.post('/rate/increment', { schema: { response: INCREMENT_RESPONSES } }, async (request, reply) => {
    const input = parseIncrementQuery(request.query, request.headers['idempotency-key'], service.burst)
    let decision: RateDecision
    try {
      decision = await service.increment(input)
    } catch (err) {
      return degradeOrRethrow(err, failOpen, request, reply, service.burst)
    }
    setRateHeaders(reply, decision)
    if (decision.result) {
      request.rlOutcome = 'admitted'
      return {
        result: true,
        remaining_quota: remainingTokens(decision),
        limit: decision.limit,
        reset_after_sec: wholeSecondsUp(decision.resetSec),
      }
    }
    request.rlOutcome = 'rejected'
    const retryAfter = retryAfterHeaderValue(decision.retryAfterSec)
    reply.code(429).header('Retry-After', retryAfter)
    return { result: false, remaining_quota: remainingTokens(decision), limit: decision.limit, retry_after_sec: retryAfter }
  })

  app.get('/rate/check', { schema: { response: CHECK_RESPONSES } }, async (request, reply) => {
    const clientId = parseCheckQuery(request.query)
    let decision: RateDecision
    try {
      decision = await service.check(clientId)
    } catch (err) {
      return degradeOrRethrow(err, failOpen, request, reply, service.burst)
    }
    setRateHeaders(reply, decision)
    request.rlOutcome = decision.result ? 'admitted' : 'rejected'
    return { result: decision.result, remaining_quota: remainingTokens(decision), limit: decision.limit }
  })
}

/**
 * Fail-open, as Redis-backed middlewares do when Redis is down: only "the cluster
 * cannot answer" errors are admitted; bad input and shutdown still fail.
 */
function degradeOrRethrow(err: unknown, failOpen: boolean, request: FastifyRequest, reply: FastifyReply, burst: number) {
  if (!failOpen || !isRateLimiterError(err) || (err.code !== 'NO_LEADER' && err.code !== 'NO_QUORUM')) throw err
  request.rlOutcome = 'degraded'
  reply.header('X-RateLimit-Degraded', '1')
  return { result: true, degraded: true, error: err.code, limit: burst }
}
