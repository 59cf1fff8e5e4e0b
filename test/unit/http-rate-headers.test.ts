import t from 'tap'
import {
  rateLimitField,
  rateLimitPolicyField,
  remainingTokens,
  retryAfterHeaderValue,
  wholeSecondsUp,
} from '../../src/http/rate-headers.js'
import type { RateDecision } from '../../src/service.js'

t.test('seconds round up, never below zero', async (t) => {
  t.equal(wholeSecondsUp(0), 0)
  t.equal(wholeSecondsUp(-3), 0)
  t.equal(wholeSecondsUp(0.01), 1)
  t.equal(wholeSecondsUp(12), 12)
  t.equal(wholeSecondsUp(12.2), 13)
})

t.test('Retry-After is at least one second', async (t) => {
  t.equal(retryAfterHeaderValue(0), 1)
  t.equal(retryAfterHeaderValue(0.3), 1)
  t.equal(retryAfterHeaderValue(2.5), 3)
})

t.test('remaining is a whole, non-negative token count', async (t) => {
  const d = (remaining: number): RateDecision => ({ result: true, remaining, limit: 5, refill: 5, windowSec: 60, resetSec: 0, retryAfterSec: 0 })
  t.equal(remainingTokens(d(3.9)), 3)
  t.equal(remainingTokens(d(-1)), 0)
})

t.test('IETF structured fields', async (t) => {
  t.equal(rateLimitPolicyField(100, 60), '"default";q=100;w=60')
  t.equal(rateLimitField(7, 30), '"default";r=7;t=30')
})
