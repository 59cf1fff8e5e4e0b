// Turns every error into the one JSON error shape {"result":false,"error":CODE,"message":...}.
// Only RateLimiterError codes ever reach a client; anything unexpected is logged
// and answered 500 INTERNAL without internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS, RateLimiterError, isRateLimiterError, type ErrorCode } from '../errors.js'

export interface ErrorAnswer {
  readonly status: number
  readonly code: ErrorCode
  readonly message: string
  readonly retryAfterSec: number | undefined
}

export interface ErrorBody {
  readonly result: false
  readonly error: ErrorCode
  readonly message: string
}

/** Pure: which answer an error deserves. Framework 4xx (bad URL, body too large...) stay client errors. */
export function classifyError(err: unknown): ErrorAnswer {
  if (isRateLimiterError(err)) return answerOf(err)
  const status = statusCodeOf(err)
  if (status === 413) return answerOf(new RateLimiterError('PAYLOAD_TOO_LARGE'))
  if (status !== undefined && status >= 400 && status < 500) {
    return answerOf(new RateLimiterError('BAD_REQUEST', String((err as Error).message).slice(0, 200)))
  }
  return answerOf(new RateLimiterError('INTERNAL'))
}

export function errorBody(answer: ErrorAnswer): ErrorBody {
  return { result: false, error: answer.code, message: answer.message }
}

export function sendError(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  request.rlOutcome = answer.code
  reply.code(answer.status)
  if (answer.retryAfterSec !== undefined) reply.header('Retry-After', answer.retryAfterSec)
  return reply.send(errorBody(answer))
}

/** fastify's `frameworkErrors` option: errors raised before routing (e.g. a malformed URL). */
export function handleFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(request, reply, classifyError(err))
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const answer = classifyError(err)
    // reqId here: request.log is the app logger, not a per-request child (public-app.ts).
    if (answer.code === 'INTERNAL') request.log.error({ err, reqId: request.id }, 'unexpected error while serving a request')
    else request.log.debug({ reqId: request.id, code: answer.code }, answer.message)
    return sendError(request, reply, answer)
  })
  app.setNotFoundHandler((request, reply) => sendError(request, reply, classifyError(new RateLimiterError('NOT_FOUND'))))
}

function answerOf(err: RateLimiterError): ErrorAnswer {
  // INTERNAL never carries a detail: it could leak internals.
  const message = err.code === 'INTERNAL' ? ERRORS.INTERNAL.message : err.message
  return { status: err.status, code: err.code, message, retryAfterSec: err.retryAfterSec }
}

function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const status = (err as { statusCode?: unknown }).statusCode
  return typeof status === 'number' ? status : undefined
}
