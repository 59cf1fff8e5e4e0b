import t from 'tap'
import type { IncrementInput, RateDecision } from '../../src/service.js'
import {
  decodeErrorCode,
  decodeForwardRequest,
  decodeForwardResponse,
  encodeForwardRequest,
  encodeForwardResponse,
} from '../../src/transport/forward-codec.js'

const decision: RateDecision = { result: false, remaining: 0, limit: 5, refill: 5, windowSec: 60, resetSec: 12, retryAfterSec: 12 }

t.test('requests round-trip and carry only the known fields', async (t) => {
  const withExtra = { clientId: 'alice', cost: 2, requestId: 'r1', secretStuff: 'x' } as IncrementInput
  const inputs: IncrementInput[] = [withExtra, { clientId: 'bob', cost: 1 }]
  const wire = encodeForwardRequest(inputs)
  t.notMatch(wire, /secretStuff/)
  t.strictSame(decodeForwardRequest(JSON.parse(wire)), [{ clientId: 'alice', cost: 2, requestId: 'r1' }, { clientId: 'bob', cost: 1 }])
  t.notOk('requestId' in (decodeForwardRequest(JSON.parse(wire))[1] ?? {}), 'absent stays absent')
})

t.test('responses round-trip', async (t) => {
  const outcomes = [{ ok: true as const, decision }, { ok: false as const, code: 'NO_QUORUM' as const }]
  t.strictSame(decodeForwardResponse(encodeForwardResponse(outcomes), 2), outcomes)
})

t.test('a response that does not fit the request is an INTERNAL error', async (t) => {
  const one = encodeForwardResponse([{ ok: true, decision }])
  t.throws(() => decodeForwardResponse(one, 2), { name: 'RateLimiterError', code: 'INTERNAL' })
  t.throws(() => decodeForwardResponse('nope', 1), { code: 'INTERNAL' })
  t.throws(() => decodeForwardResponse('[{"ok":true,"decision":{"result":true}}]', 1), { code: 'INTERNAL' })
})

t.test('an error code this node does not know becomes INTERNAL for that input only', async (t) => {
  t.strictSame(decodeForwardResponse('[{"ok":false,"code":"FROM_THE_FUTURE"}]', 1), [{ ok: false, code: 'INTERNAL' }])
})

t.test('error bodies yield their code only when it is a known one', async (t) => {
  t.equal(decodeErrorCode('{"error":"NO_LEADER"}'), 'NO_LEADER')
  t.equal(decodeErrorCode('{"error":"toString"}'), undefined)
  t.equal(decodeErrorCode('{"error":"BOGUS"}'), undefined)
  t.equal(decodeErrorCode('<html>'), undefined)
})
