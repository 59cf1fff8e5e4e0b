// Turns the state machine's Decision into what the rate routes report.
import type { Decision } from '../ratelimit/index.js'
import type { RateDecision } from '../service.js'

export function toRateDecision(d: Decision): RateDecision {
  return {
    result: d.admitted,
    remaining: d.remaining,
    limit: d.policy.burst,
    refill: d.policy.refill,
    windowSec: d.policy.windowMs / 1000,
    resetSec: Math.ceil(d.resetMs / 1000),
    retryAfterSec: d.admitted ? 0 : Math.max(1, Math.ceil(d.retryAfterMs / 1000)),
  }
}
