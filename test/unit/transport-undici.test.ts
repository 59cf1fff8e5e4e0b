// Real sockets on 127.0.0.1: peer apps listening on port 0, UndiciTransports between them.
import t, { type Test } from 'tap'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { buildPeerApp } from '../../src/http/peer-app.js'
import { RateLimiterError } from '../../src/errors.js'
import type { Message } from '../../src/raft/types.js'
import type { IncrementInput, RateDecision } from '../../src/service.js'
import { neverSent, UNKNOWN_PEER, type ForwardOutcome, type PeerAddress } from '../../src/transport/port.js'
import { UndiciTransport, type UndiciTransportOptions } from '../../src/transport/undici-transport.js'
import { PeerLink } from '../../src/transport/peer-link.js'
import { numbered, oneOfEachMessage } from './transport-fixtures.js'
import { encodeFrame } from '../../src/transport/frame-codec.js'

const SECRET = 'cluster-secret-for-tests'
const decision: RateDecision = { result: true, remaining: 9, limit: 10, refill: 10, windowSec: 1, resetSec: 1, retryAfterSec: 0 }

interface PeerNode {
  readonly app: FastifyInstance
  readonly address: PeerAddress
  /** One element per request that reached onMessages. */
  readonly batches: Message[][]
  readonly forwarded: IncrementInput[][]
  readonly received: () => Message[]
}

interface PeerSetup {
  readonly onForward?: (inputs: IncrementInput[]) => Promise<ForwardOutcome[]>
  /** Runs before listen, e.g. to add a hook that watches requests. */
  readonly configure?: (app: FastifyInstance) => void
  /** 0 (any free port) unless a test restarts a peer where it was. */
  readonly port?: number
}

async function startPeer(t: Test, id: string, { onForward, configure, port: wanted = 0 }: PeerSetup = {}): Promise<PeerNode> {
  const batches: Message[][] = []
  const forwarded: IncrementInput[][] = []
  const app = buildPeerApp({
    secret: SECRET,
    onMessages: (msgs) => batches.push(msgs),
    onForward:
      onForward ??
      (async (inputs) => {
        forwarded.push(inputs)
        return inputs.map((i): ForwardOutcome => (i.cost > 5 ? { ok: false, code: 'INVALID_COST' } : { ok: true, decision }))
      }),
  })
  configure?.(app)
  await app.listen({ host: '127.0.0.1', port: wanted })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  return { app, address: { id, host: '127.0.0.1', port }, batches, forwarded, received: () => batches.flat() }
}

function startTransport(t: Test, opts: Partial<UndiciTransportOptions> & Pick<UndiciTransportOptions, 'self' | 'peers'>): UndiciTransport {
  const transport = new UndiciTransport({ secret: SECRET, timeoutMs: 1_000, ...opts })
  t.teardown(() => transport.close())
  return transport
}

/**
 * A port nothing listens on. Port 1 rather than a freed ephemeral port: test
 * files run in parallel, and a port freed by one may be bound by another (or
 * become this connection's own source port) before the test connects.
 */
async function deadAddress(id: string): Promise<PeerAddress> {
  const address = { id, host: '127.0.0.1', port: 1 }
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect(address.port, address.host)
    socket.once('connect', () => { socket.destroy(); resolve(false) })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'))
  })
  if (!refused) throw new Error(`precondition: ${address.host}:${address.port} must refuse connections`)
  return address
}

/** Accepts connections and never answers: a hung or partitioned peer. */
async function blackhole(t: Test, id: string): Promise<PeerAddress> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { id, host: '127.0.0.1', port: (server.address() as AddressInfo).port }
}

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

t.test('messages arrive in both directions, batched, in order', async (t) => {
  const a = await startPeer(t, 'node-1')
  const b = await startPeer(t, 'node-2')
  const fromA = startTransport(t, { self: 'node-1', peers: [a.address, b.address] })
  const fromB = startTransport(t, { self: 'node-2', peers: [a.address, b.address] })

  // Many send() calls in one tick: one frame.
  for (let i = 0; i < 200; i++) fromA.send([numbered(i, 'node-1', 'node-2')])
  await until('the burst', () => b.received().length === 200)
  t.equal(b.batches.length, 1, 'one burst, one frame')
  t.strictSame(b.received().map((m) => (m.type === 'heartbeat' ? m.readSeq : -1)), [...Array(200).keys()])

  // Sends spread over many ticks: still in order, one frame per tick.
  b.batches.length = 0
  for (let i = 0; i < 1_000; i++) {
    fromA.send([numbered(i, 'node-1', 'node-2')])
    if (i % 5 === 0) await nextMacrotask()
  }
  await until('the spread sends', () => b.received().length === 1_000)
  t.strictSame(b.received().map((m) => (m.type === 'heartbeat' ? m.readSeq : -1)), [...Array(1_000).keys()], 'order preserved')
  t.ok(b.batches.length <= 1_000 / 5 + 1, `sends of one tick share a frame: ${b.batches.length} frames for 200 ticks`)

  // Every message type crosses the wire intact, and the other way round.
  const all = oneOfEachMessage('node-2', 'node-1')
  fromB.send(all)
  await until('the reverse direction', () => a.received().length === all.length)
  t.strictSame(a.received(), all)

  t.match(fromA.stats().peers['node-2'], { sentMessages: 1_200, droppedMessages: 0, streamsOpened: 1, reachable: true })
  t.equal(fromA.stats().peers['node-1'], undefined, 'no link to itself')
})

t.test('one stream per peer: a long-lived request whose frames keep their order', async (t) => {
  const streams: (number | undefined)[] = []
  const b = await startPeer(t, 'node-2', {
    configure: (app) => app.addHook('onRequest', async (request) => void streams.push(request.socket.remotePort)),
  })
  const transport = startTransport(t, { self: 'node-1', peers: [b.address], timeoutMs: 200 })
  for (let i = 0; i < 1_000; i++) {
    transport.send([numbered(i, 'node-1', 'node-2')])
    if (i % 5 === 0) await nextMacrotask()
  }
  await until('delivery', () => b.received().length === 1_000)
  t.strictSame(b.received().map((m) => (m.type === 'heartbeat' ? m.readSeq : -1)), [...Array(1_000).keys()], 'order preserved')
  // Idle for longer than the timeout: the receiver's keepalives keep the stream open.
  await sleep(500)
  transport.send([numbered(1_000, 'node-1', 'node-2')])
  await until('delivery after a pause', () => b.received().length === 1_001)
  t.equal(streams.length, 1, 'one request carried every frame')
  t.match(transport.stats().peers['node-2'], { streamsOpened: 1, bufferedBytes: 0, reachable: true })
})

t.test('a stream that breaks is reopened, and what follows arrives', async (t) => {
  const b = await startPeer(t, 'node-2')
  const { port } = b.address
  const warnings: object[] = []
  const logger = { info: () => {}, warn: (obj: object) => void warnings.push(obj) }
  const transport = startTransport(t, { self: 'node-1', peers: [b.address], timeoutMs: 200, logger })
  transport.send([numbered(1, 'node-1', 'node-2')])
  await until('first delivery', () => b.received().length === 1)

  await b.app.close() // ends the open stream too (preClose)
  await until('the broken stream to be noticed', () => transport.stats().peers['node-2']?.reachable === false)
  const again = await startPeer(t, 'node-2', { port })
  for (let i = 2; again.received().length === 0; i++) {
    transport.send([numbered(i, 'node-1', 'node-2')])
    await sleep(20)
  }
  t.equal(transport.stats().peers['node-2']?.reachable, true, 'reachable again')
  t.ok((transport.stats().peers['node-2']?.streamsOpened ?? 0) >= 2, 'a new stream was opened')
  t.equal(warnings.length, 1, 'the outage is logged once')
})

t.test('a link with nothing to send still finds its peer back after a failed stream', async (t) => {
  // A follower's link to another follower carries nothing between elections;
  // if its stream failed at boot, its reachable gauge must still recover.
  const b = await startPeer(t, 'node-2')
  const { port } = b.address
  const transport = startTransport(t, { self: 'node-1', peers: [b.address], timeoutMs: 200 })
  await b.app.close()
  transport.send([numbered(1, 'node-1', 'node-2')])
  await until('the failed stream to be noticed', () => transport.stats().peers['node-2']?.reachable === false)
  const opensWhileDown = transport.stats().peers['node-2']?.streamsOpened ?? 0
  const sentBefore = transport.stats().peers['node-2']?.sentMessages
  await sleep(200)
  const opensLater = transport.stats().peers['node-2']?.streamsOpened ?? 0
  t.ok(opensLater > opensWhileDown && opensLater - opensWhileDown <= 5, `retried about once per retry pause while down: ${opensLater - opensWhileDown} opens in 200 ms, pause 50 ms`)

  await startPeer(t, 'node-2', { port })
  await until('reachable again without a send', () => transport.stats().peers['node-2']?.reachable === true)
  const settled = transport.stats().peers['node-2']?.streamsOpened ?? 0
  await sleep(150)
  t.equal(transport.stats().peers['node-2']?.streamsOpened, settled, 'no more streams once one is open')
  t.equal(transport.stats().peers['node-2']?.sentMessages, sentBefore, 'nothing was sent to find the peer back')
})

t.test('a link whose member left gives up on a broken stream: no retries, no warning', async (t) => {
  // The transport keeps such a link only so answers owed to the peer can
  // still go out; once the removed node stops, reopening streams to it for
  // the rest of a forward deadline would only burn connection attempts.
  const b = await startPeer(t, 'node-2')
  const warnings: object[] = []
  const logger = { info: () => {}, warn: (obj: object) => warnings.push(obj) }
  const link = new PeerLink({ self: 'node-1', peer: b.address, secret: SECRET, timeoutMs: 200, forwardTimeoutMs: 10_000, maxBufferedBytes: 1 << 20, maxBatchMessages: 100, forwardConnections: 1, logger })
  t.teardown(() => link.close())
  link.send(numbered(1, 'node-1', 'node-2'))
  await until('the stream is open', () => b.received().length === 1)
  link.leave(10_000)
  link.send(numbered(2, 'node-1', 'node-2'))
  await b.app.close()
  await sleep(300)
  t.equal(link.stats().streamsOpened, 1, 'no stream reopened in 300 ms (the retry pause is 50 ms)')
  t.same(warnings, [], 'a removed member that stops is not an outage')
  t.equal(b.received().length, 1, 'nothing but answers is sent once the member left')
})

t.test('messages to unknown nodes are counted, not sent', async (t) => {
  const b = await startPeer(t, 'node-2')
  const transport = startTransport(t, { self: 'node-1', peers: [b.address] })
  transport.send([numbered(1, 'node-1', 'node-9'), numbered(2, 'node-1', 'node-2')])
  await until('delivery', () => b.received().length === 1)
  t.equal(transport.stats().unroutableMessages, 1)
})

t.test('setPeers: new members become reachable, removed and moved ones are left', async (t) => {
  const b = await startPeer(t, 'node-2')
  const c = await startPeer(t, 'node-3')
  const moved = await startPeer(t, 'node-2')
  const transport = startTransport(t, { self: 'node-1', peers: [b.address] })
  transport.send([numbered(1, 'node-1', 'node-3')])
  t.equal(transport.stats().unroutableMessages, 1, 'node-3 is not known yet')

  transport.setPeers([{ id: 'node-1', host: '127.0.0.1', port: 1 }, b.address, c.address])
  transport.send([numbered(2, 'node-1', 'node-3'), numbered(3, 'node-1', 'node-2')])
  await until('delivery to the new member', () => c.received().length === 1 && b.received().length === 1)
  t.same(Object.keys(transport.stats().peers).sort(), ['node-2', 'node-3'], 'itself is skipped')

  // node-2 moves to another address; node-3 leaves.
  transport.setPeers([moved.address])
  transport.send([numbered(4, 'node-1', 'node-2'), numbered(5, 'node-1', 'node-3')])
  await until('delivery to the moved member', () => moved.received().length === 1)
  t.equal(transport.stats().unroutableMessages, 2, 'the removed member is no longer reachable')
  await sleep(50)
  t.equal(b.received().length, 1, 'nothing more went to the old address')
  t.equal(c.received().length, 1, 'nothing more went to the removed member')
  const err = await transport.forward('node-3', [{ clientId: 'x', cost: 1 }]).then(() => null, (e: unknown) => e)
  t.match(err, { code: 'NO_LEADER' })
  t.equal(neverSent(err), true, 'a forward to a member that left provably never left this node: the caller may re-send it')
  t.equal(neverSent(new RateLimiterError('NO_LEADER', 'UND_ERR_SOCKET: other side closed')), false, 'a dropped connection may have delivered it')
  t.equal(neverSent(new RateLimiterError('NO_QUORUM', `node-3 ${UNKNOWN_PEER}`)), false, 'only NO_LEADER qualifies')
})

t.test('a wrong secret is refused with 401 and changes nothing', async (t) => {
  const b = await startPeer(t, 'node-2')
  const warnings: object[] = []
  const logger = { info: () => {}, warn: (obj: object) => void warnings.push(obj) }
  const intruder = startTransport(t, { self: 'node-1', peers: [b.address], secret: 'not-the-secret', logger })
  for (let i = 0; i < 3; i++) {
    // Each send after the retry pause opens a stream, which the peer refuses.
    await until('a refused stream', () => {
      intruder.send(oneOfEachMessage())
      return intruder.stats().peers['node-2']?.streamsOpened === i + 1 && intruder.stats().peers['node-2']?.reachable === false
    })
  }
  await sleep(50)
  t.equal(b.batches.length, 0, 'onMessages never called')
  t.match(intruder.stats().peers['node-2'], { reachable: false })
  t.ok((intruder.stats().peers['node-2']?.droppedMessages ?? 0) > 0, 'messages sent while waiting to retry are dropped and counted')
  t.equal(warnings.length, 1, 'a refusing peer is logged once, not per stream')

  await t.rejects(intruder.forward('node-2', [{ clientId: 'a', cost: 1 }]), { name: 'RateLimiterError', code: 'INTERNAL' })
  t.equal(b.forwarded.length, 0, 'onForward never called')

  const origin = `http://127.0.0.1:${b.address.port}`
  const missing = await request(`${origin}/raft/stream`, { method: 'POST', headers: { 'content-type': 'application/x-raft-frames' }, body: encodeFrame('{"v":1,"m":[]}') })
  t.equal(missing.statusCode, 401)
  t.strictSame(await missing.body.json(), { error: 'UNAUTHORIZED' })
  t.equal(b.batches.length, 0)
})

t.test('a dead peer: send() never throws, drops are counted, the outage is logged once', async (t) => {
  const dead = await deadAddress('node-3')
  const warnings: object[] = []
  const logger = { info: () => {}, warn: (obj: object) => void warnings.push(obj) }
  const transport = startTransport(t, { self: 'node-1', peers: [dead], timeoutMs: 100, logger })
  let sent = 0
  const started = Date.now()
  for (let tick = 0; tick < 20; tick++) {
    t.doesNotThrow(() => transport.send(Array.from({ length: 100 }, (_, i) => numbered(tick * 100 + i, 'node-1', 'node-3'))))
    sent += 100
    await sleep(5)
  }
  // A new stream is tried at most once per quarter of the timeout, however often there is something to send.
  const allowedOpens = Math.ceil((Date.now() - started) / 25) + 1
  await until('the stream to fail', () => transport.stats().peers['node-3']?.reachable === false)
  const stats = transport.stats().peers['node-3']
  t.ok(stats !== undefined && stats.droppedMessages > 0, `dropped while no stream is open: ${stats?.droppedMessages}`)
  t.equal((stats?.sentMessages ?? 0) + (stats?.droppedMessages ?? 0), sent, 'every message is written to a stream or counted as dropped')
  t.ok(stats !== undefined && stats.streamsOpened >= 1 && stats.streamsOpened <= Math.min(allowedOpens, 10), `retried at most once per quarter timeout, not per tick (20 sends): ${stats?.streamsOpened} opens, ${allowedOpens} allowed`)
  t.equal(warnings.length, 1, 'logged once')
})

t.test('a hung peer does not hold up the others', async (t) => {
  const b = await startPeer(t, 'node-2')
  const hung = await blackhole(t, 'node-3')
  const maxBufferedBytes = 64 * 1024
  const transport = startTransport(t, { self: 'node-1', peers: [b.address, hung], timeoutMs: 300, maxBufferedBytes })
  // Big enough that the hung peer's socket buffers fill up and frames back up in the stream.
  const bulky = (i: number, to: string): Message => ({
    type: 'append', from: 'node-1', to, term: 1, prevIndex: i, prevTerm: 1, commit: 0,
    entries: [{ index: i + 1, term: 1, kind: 'cmd', data: 'x'.repeat(20_000) }],
  })
  const started = Date.now()
  let maxBuffered = 0
  for (let i = 0; i < 400; i++) {
    transport.send([bulky(i, 'node-3'), numbered(i, 'node-1', 'node-2')])
    await nextMacrotask()
    maxBuffered = Math.max(maxBuffered, transport.stats().peers['node-3']?.bufferedBytes ?? 0)
  }
  await until('delivery to the healthy peer', () => b.received().length === 400, 2_000)
  t.ok(Date.now() - started < 1_500, 'the healthy peer was never held up')
  t.ok(maxBuffered <= maxBufferedBytes, `the hung peer's buffer stays bounded: ${maxBuffered} bytes at most`)
  t.ok((transport.stats().peers['node-3']?.droppedMessages ?? 0) > 0, 'what does not fit is dropped')
  await until('the silent stream to fail at the timeout', () => transport.stats().peers['node-3']?.reachable === false, 2_000)
})

t.test('forward: outcomes come back one per input, in order', async (t) => {
  const leader = await startPeer(t, 'node-2')
  const follower = startTransport(t, { self: 'node-1', peers: [leader.address] })
  const inputs: IncrementInput[] = [
    { clientId: 'alice', cost: 1, requestId: 'req-1' },
    { clientId: 'bob', cost: 9 },
    { clientId: 'carol', cost: 2 },
  ]
  const outcomes = await follower.forward('node-2', inputs)
  t.strictSame(outcomes, [{ ok: true, decision }, { ok: false, code: 'INVALID_COST' }, { ok: true, decision }])
  t.strictSame(leader.forwarded, [inputs])
  t.strictSame(await follower.forward('node-2', []), [], 'nothing to forward, nothing sent')
  t.equal(leader.forwarded.length, 1)
})

t.test('forward: a leader-side 503 keeps its code', async (t) => {
  const leader = await startPeer(t, 'node-2', { onForward: async () => Promise.reject(new RateLimiterError('NO_QUORUM')) })
  const follower = startTransport(t, { self: 'node-1', peers: [leader.address] })
  await t.rejects(follower.forward('node-2', [{ clientId: 'a', cost: 1 }]), { name: 'RateLimiterError', code: 'NO_QUORUM' })
})

t.test('forward: unreachable peers reject with a RateLimiterError within the timeout', async (t) => {
  const dead = await deadAddress('node-3')
  const hung = await blackhole(t, 'node-4')
  const follower = startTransport(t, { self: 'node-1', peers: [dead, hung], timeoutMs: 300 })

  let started = Date.now()
  const refused = await follower.forward('node-3', [{ clientId: 'a', cost: 1 }]).then(() => null, (e: unknown) => e)
  t.match(refused, { name: 'RateLimiterError', code: 'NO_LEADER' })
  t.ok(Date.now() - started < 300, 'a refused connection fails at once')
  t.equal(neverSent(refused), true, 'a refused connection never carried it: the caller may re-send it')

  started = Date.now()
  const silent = await follower.forward('node-4', [{ clientId: 'a', cost: 1 }]).then(() => null, (e: unknown) => e)
  t.match(silent, { name: 'RateLimiterError', code: 'NO_QUORUM' })
  t.equal(neverSent(silent), false, 'a silent peer may have applied it')
  const elapsed = Date.now() - started
  t.ok(elapsed >= 250 && elapsed < 1_000, `a silent peer fails at the deadline (${elapsed} ms)`)

  await t.rejects(follower.forward('node-9', [{ clientId: 'a', cost: 1 }]), { code: 'NO_LEADER' }, 'unknown peer')
  await follower.close()
  await t.rejects(follower.forward('node-3', [{ clientId: 'a', cost: 1 }]), { code: 'SHUTTING_DOWN' }, 'after close')
  t.doesNotThrow(() => follower.send([numbered(1, 'node-1', 'node-3')]), 'send after close is ignored')
})

t.test('the constructor refuses bad options', async (t) => {
  t.throws(() => new UndiciTransport({ self: 'a', peers: [], secret: '', timeoutMs: 100 }))
  t.throws(() => new UndiciTransport({ self: 'a', peers: [], secret: 's', timeoutMs: 0 }))
  const p = { id: 'b', host: '127.0.0.1', port: 1 }
  t.throws(() => new UndiciTransport({ self: 'a', peers: [p, p], secret: 's', timeoutMs: 100 }))
})

const countResources = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length

t.test('close() leaves no sockets behind', async (t) => {
  // Handles of earlier tests are released a loop turn after their close(); start from none.
  await until('earlier sockets to be released', () => countResources('TCPSocketWrap') + countResources('TCPServerWrap') === 0, 2_000)
  const b = await startPeer(t, 'node-2')
  const transport = new UndiciTransport({ self: 'node-1', peers: [b.address], secret: SECRET, timeoutMs: 1_000 })
  transport.send(oneOfEachMessage())
  await transport.forward('node-2', [{ clientId: 'a', cost: 1 }])
  await until('delivery', () => b.batches.length === 1)
  t.ok(countResources('TCPSocketWrap') >= 2, 'keep-alive connections of both pools are open')
  // The peer stays up: only the transport can close these keep-alive sockets now.
  await transport.close()
  await until('sockets to close', () => countResources('TCPSocketWrap') === 0, 2_000).catch(() => {})
  t.equal(countResources('TCPSocketWrap'), 0, `no sockets left: ${process.getActiveResourcesInfo().join(', ')}`)
  await b.app.close()
})
