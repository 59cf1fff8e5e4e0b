import t from 'tap'
import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { buildPeerApp } from '../../src/http/peer-app.js'
import { RateLimiterError } from '../../src/errors.js'
import type { Message } from '../../src/raft/types.js'
import type { IncrementInput, RateDecision } from '../../src/service.js'
import { EMPTY_FRAME, encodeFrame } from '../../src/transport/frame-codec.js'
import type { ForwardOutcome } from '../../src/transport/port.js'
import { encodeMessageBatch, oneOfEachMessage } from './transport-fixtures.js'

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

/** The app on a real socket: a message stream needs one (inject has no streaming body). */
async function listening(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

const STREAM_HEADERS = { 'content-type': 'application/x-raft-frames', 'x-cluster-secret': SECRET, 'x-raft-from': 'node-1' }

/** Sends `frames` as one whole stream; resolves with the status, or with the error if the receiver broke it. */
async function sendStream(origin: string, frames: Buffer[], headers: Record<string, string> = STREAM_HEADERS) {
  try {
    const res = await request(`${origin}/raft/stream`, { method: 'POST', headers, body: Buffer.concat(frames) })
    const body = Buffer.from(await res.body.arrayBuffer())
    return { status: res.statusCode, body }
  } catch (err) {
    return { error: err }
  }
}

t.test('a stream delivers each frame as one batch, in order, and answers 200', async (t) => {
  const { app, received } = harness()
  t.teardown(() => app.close())
  const origin = await listening(app)
  const batches = [oneOfEachMessage(), oneOfEachMessage('node-3', 'node-1').slice(0, 2), oneOfEachMessage().slice(4)]
  const res = await sendStream(origin, [EMPTY_FRAME, ...batches.map((b) => encodeFrame(encodeMessageBatch(b)))])
  t.match(res, { status: 200 })
  t.strictSame(received, batches)
})

t.test('a stream stays open with keepalives, and app.close() ends it', async (t) => {
  const { app, received } = harness()
  const origin = await listening(app)
  const body = new PassThrough()
  body.write(EMPTY_FRAME)
  const res = await request(`${origin}/raft/stream`, { method: 'POST', headers: { ...STREAM_HEADERS, 'x-raft-keepalive-ms': '20' }, body })
  t.equal(res.statusCode, 200)
  let keepaliveBytes = 0
  res.body.on('data', (chunk: Buffer) => (keepaliveBytes += chunk.length))
  body.write(encodeFrame(encodeMessageBatch(oneOfEachMessage())))
  await sleep(150)
  t.equal(received.length, 1, 'a frame is handed over while the request is still open')
  t.ok(keepaliveBytes >= 4 * 3 && keepaliveBytes % 4 === 0, `empty frames came back as keepalives: ${keepaliveBytes} bytes`)
  const ended = new Promise((resolve) => res.body.on('error', resolve).on('end', resolve))
  const started = Date.now()
  await app.close()
  await ended
  t.ok(Date.now() - started < 1_000, 'close() did not wait for the stream to end on its own')
  body.destroy()
})

t.test('missing or wrong secret: 401 and no handler runs', async (t) => {
  const { app, received, forwarded } = harness()
  t.teardown(() => app.close())
  const body = encodeFrame(encodeMessageBatch(oneOfEachMessage())).toString('latin1')
  const stream = (headers: Record<string, string>) => ({ ...post('/raft/stream', body, headers), headers: { ...headers, 'content-type': 'application/x-raft-frames' } })
  const attempts = [
    stream({}),
    stream({ 'x-cluster-secret': 'wrong' }),
    stream({ 'x-cluster-secret': SECRET.slice(0, -1) }),
    stream({ 'x-cluster-secret': SECRET + 'x' }),
    stream({ 'x-cluster-secret': '' }),
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

t.test('a malformed frame breaks the stream: what came before it is delivered, nothing after', async (t) => {
  const errors: unknown[] = []
  const received: Message[][] = []
  const app = buildPeerApp({ secret: SECRET, onMessages: (m) => received.push(m), onForward: async () => [], onStreamError: (_from, err) => errors.push(err) })
  t.teardown(() => app.close())
  const origin = await listening(app)
  const good = encodeFrame(encodeMessageBatch(oneOfEachMessage()))
  for (const bad of ['', '{', '{"v":1,"m":[[99,"a","b",1]]}', JSON.stringify(oneOfEachMessage()), '{"v":1,"m":[[6,"node-1","node-2",1.5,0,0]]}']) {
    received.length = 0
    const res = await sendStream(origin, [good, encodeFrame(bad === '' ? ' ' : bad), good])
    t.ok('error' in res, `broken by ${JSON.stringify(bad).slice(0, 40)}`)
    t.equal(received.length, 1, 'only the frame before it was delivered')
  }
  t.equal(errors.length, 5, 'each broken stream is reported')
  t.match(errors[0], { code: 'INVALID_PEER_MESSAGE' })

  const wrongType = await app.inject({ ...post('/raft/stream', '{}'), headers: { 'x-cluster-secret': SECRET, 'content-type': 'text/plain' } })
  t.equal(wrongType.statusCode, 415)
})

t.test('a frame over the body limit breaks the stream before it is read', async (t) => {
  const errors: unknown[] = []
  const received: Message[][] = []
  const app = buildPeerApp({
    secret: SECRET,
    bodyLimit: 1024,
    onMessages: (m) => received.push(m),
    onForward: async () => [],
    onStreamError: (_from, err) => errors.push(err),
  })
  t.teardown(() => app.close())
  const origin = await listening(app)
  const big = oneOfEachMessage().map((m) => (m.type === 'read_index' ? { ...m, ctx: 'x'.repeat(2048) } : m))
  const res = await sendStream(origin, [encodeFrame(encodeMessageBatch(big))])
  t.ok('error' in res, 'the stream was broken')
  t.equal(received.length, 0)
  t.match(errors, [{ name: 'FrameTooLargeError' }])
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
