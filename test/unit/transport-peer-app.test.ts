import t from 'tap'
import { buildPeerApp } from '../../src/http/peer-app.js'
import { RateLimiterError } from '../../src/errors.js'
import type { Message } from '../../src/raft/types.js'
import type { IncrementInput, RateDecision } from '../../src/service.js'
import { encodeMessageBatch } from '../../src/transport/message-codec.js'
import type { ForwardOutcome } from '../../src/transport/port.js'
import { oneOfEachMessage } from './transport-fixtures.js'

const SECRET = 's3cret-for-tests'
const decision: RateDecision = { result: true, remaining: 4, limit: 10, refill: 10, windowSec: 60, resetSec: 30, retryAfterSec: 0 }

function harness(overrides: { onForward?: (inputs: IncrementInput[]) => Promise<ForwardOutcome[]>; bodyLimit?: number } = {}) {
  const received: Message[][] = []
  const forwarded: IncrementInput[][] = []
  const app = buildPeerApp({
    secret: SECRET,
    onMessages: (msgs) => received.push(msgs),
    onForward:
      overrides.onForward ??
      (async (inputs) => {
        forwarded.push(inputs)
        return inputs.map((): ForwardOutcome => ({ ok: true, decision }))
      }),
    ...(overrides.bodyLimit === undefined ? {} : { bodyLimit: overrides.bodyLimit }),
  })
  return { app, received, forwarded }
}

const post = (url: string, payload: string, headers: Record<string, string> = { 'x-cluster-secret': SECRET }) => ({
  method: 'POST' as const,
  url,
  payload,
  headers: { 'content-type': 'application/json', ...headers },
})

t.test('a valid batch is delivered once and acknowledged with 204', async (t) => {
  const { app, received } = harness()
  t.teardown(() => app.close())
  const messages = oneOfEachMessage()
  const res = await app.inject(post('/raft/messages', encodeMessageBatch(messages)))
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.strictSame(received, [messages])
})

t.test('missing or wrong secret: 401 and no handler runs', async (t) => {
  const { app, received, forwarded } = harness()
  t.teardown(() => app.close())
  const body = encodeMessageBatch(oneOfEachMessage())
  const attempts = [
    post('/raft/messages', body, {}),
    post('/raft/messages', body, { 'x-cluster-secret': 'wrong' }),
    post('/raft/messages', body, { 'x-cluster-secret': SECRET.slice(0, -1) }),
    post('/raft/messages', body, { 'x-cluster-secret': SECRET + 'x' }),
    post('/raft/messages', body, { 'x-cluster-secret': '' }),
    post('/raft/forward', JSON.stringify([{ clientId: 'a', cost: 1 }]), { 'x-cluster-secret': 'wrong' }),
    post('/raft/forward', 'not even json', {}),
    { method: 'GET' as const, url: '/anything-else' },
  ]
  for (const attempt of attempts) {
    const res = await app.inject(attempt)
    t.equal(res.statusCode, 401, `${attempt.method} ${attempt.url}`)
    t.strictSame(res.json(), { error: 'UNAUTHORIZED' })
  }
  t.equal(received.length, 0, 'onMessages never called')
  t.equal(forwarded.length, 0, 'onForward never called')
})

t.test('malformed batches: 400 INVALID_PEER_MESSAGE and no handler runs', async (t) => {
  const { app, received } = harness()
  t.teardown(() => app.close())
  for (const payload of ['', '{', '{"v":1,"m":[[99,"a","b",1]]}', JSON.stringify(oneOfEachMessage())]) {
    const res = await app.inject(post('/raft/messages', payload))
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 40))
    t.equal(res.json().error, 'INVALID_PEER_MESSAGE')
  }
  const wrongType = await app.inject({ ...post('/raft/messages', '{}'), headers: { 'x-cluster-secret': SECRET, 'content-type': 'text/plain' } })
  t.equal(wrongType.statusCode, 415)
  t.equal(received.length, 0)
})

t.test('a body over the limit is refused with 413', async (t) => {
  const { app, received } = harness({ bodyLimit: 1024 })
  t.teardown(() => app.close())
  const big = oneOfEachMessage().map((m) => (m.type === 'read_index' ? { ...m, ctx: 'x'.repeat(2048) } : m))
  const res = await app.inject(post('/raft/messages', encodeMessageBatch(big)))
  t.equal(res.statusCode, 413)
  t.equal(received.length, 0)
})

t.test('forward: valid inputs reach onForward and outcomes come back in order', async (t) => {
  const outcomes: ForwardOutcome[] = [{ ok: true, decision }, { ok: false, code: 'NO_QUORUM' }]
  let seen: IncrementInput[] = []
  const { app } = harness({
    onForward: async (inputs) => {
      seen = inputs
      return outcomes
    },
  })
  t.teardown(() => app.close())
  const inputs = [{ clientId: 'alice', cost: 1, requestId: 'r-1' }, { clientId: 'bob', cost: 3 }]
  const res = await app.inject(post('/raft/forward', JSON.stringify(inputs)))
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), outcomes)
  t.strictSame(seen, inputs)
})

t.test('forward: invalid inputs are refused with 400 before onForward', async (t) => {
  const { app, forwarded } = harness()
  t.teardown(() => app.close())
  const bad: unknown[] = [
    { clientId: 'a', cost: 1 },
    [{ clientId: '', cost: 1 }],
    [{ clientId: 'x'.repeat(257), cost: 1 }],
    [{ clientId: 'a', cost: 0 }],
    [{ clientId: 'a', cost: 1.5 }],
    [{ clientId: 'a', cost: '1' }],
    [{ clientId: 'a' }],
    [{ clientId: 'a', cost: 1, requestId: '' }],
    [{ clientId: 'a', cost: 1, requestId: 'r'.repeat(129) }],
    [{ clientId: 'a', cost: 1, requestId: null }],
  ]
  for (const payload of bad) {
    const res = await app.inject(post('/raft/forward', JSON.stringify(payload)))
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    t.equal(res.json().error, 'INVALID_PEER_MESSAGE')
  }
  const garbage = await app.inject(post('/raft/forward', '[{'))
  t.equal(garbage.statusCode, 400)
  t.equal(forwarded.length, 0)
})

t.test('forward: a RateLimiterError from onForward keeps its status and code', async (t) => {
  const { app } = harness({ onForward: async () => Promise.reject(new RateLimiterError('NO_LEADER')) })
  t.teardown(() => app.close())
  const res = await app.inject(post('/raft/forward', JSON.stringify([{ clientId: 'a', cost: 1 }])))
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'NO_LEADER')
})

t.test('forward: any other failure is a 500 INTERNAL', async (t) => {
  const { app } = harness({ onForward: async () => Promise.reject(new Error('disk on fire')) })
  t.teardown(() => app.close())
  const res = await app.inject(post('/raft/forward', JSON.stringify([{ clientId: 'a', cost: 1 }])))
  t.equal(res.statusCode, 500)
  t.strictSame(res.json(), { error: 'INTERNAL' })
})

t.test('unknown routes are 404 once authenticated', async (t) => {
  const { app } = harness()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/rate/check', headers: { 'x-cluster-secret': SECRET } })
  t.equal(res.statusCode, 404)
})

t.test('an empty secret is refused at build time', async (t) => {
  t.throws(() => buildPeerApp({ secret: '', onMessages: () => {}, onForward: async () => [] }))
})
