// The outcome label of one request for ratelimiter_requests_total. Handlers and
// the error handler set it; the metrics hook reads it once the response is sent.
import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** admitted | rejected | degraded | an error code; '' until something decides. */
    rlOutcome: string
  }
}

/** A primitive default keeps fastify's request object shape stable (no per-request allocation). */
export function decorateRequestOutcome(app: FastifyInstance): void {
  app.decorateRequest('rlOutcome', '')
}
