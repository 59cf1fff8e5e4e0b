// Rate-limit response headers: the de facto X-RateLimit-* trio and the IETF
// httpapi draft's RateLimit-Policy / RateLimit structured fields.
import type { FastifyReply } from 'fastify'
import type { RateDecision } from '../service.js'

const POLICY_NAME = '"default"'

/** Whole seconds, rounded up so a client that waits this long is never early. */
export function wholeSecondsUp(seconds: number): number {
  return seconds > 0 ? Math.ceil(seconds) : 0
}

/** Retry-After must be a positive integer: waiting 0 s would just hit the limit again. */
export function retryAfterHeaderValue(seconds: number): number {
  return Math.max(1, wholeSecondsUp(seconds))
}

export function remainingTokens(decision: RateDecision): number {
  return Math.max(0, Math.floor(decision.remaining))
}

export function rateLimitPolicyField(burst: number, windowSec: number): string {
  return `${POLICY_NAME};q=${burst};w=${windowSec}`
}

export function rateLimitField(remaining: number, resetSec: number): string {
  return `${POLICY_NAME};r=${remaining};t=${resetSec}`
}

export function setRateHeaders(reply: FastifyReply, decision: RateDecision): void {
  const remaining = remainingTokens(decision)
  const reset = wholeSecondsUp(decision.resetSec)
  reply
    .header('X-RateLimit-Limit', decision.limit)
    .header('X-RateLimit-Remaining', remaining)
    .header('X-RateLimit-Reset', reset)
    .header('RateLimit-Policy', rateLimitPolicyField(decision.limit, decision.windowSec))
    .header('RateLimit', rateLimitField(remaining, reset))
}
