// Forwarded increments riding the message streams: two nodes, each a peer app
// plus an UndiciTransport, on real sockets on 127.0.0.1.
import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildPeerApp } from '../../src/http/peer-app.js'
import type { Message } from '../../src/raft/types.js'
import type { IncrementInput, RateDecision } from '../../src/service.js'
import type { StreamForward } from '../../src/transport/message-codec.js'
import type { ForwardOutcome, PeerAddress } from '../../src/transport/port.js'
import { UndiciTransport } from '../../src/transport/undici-transport.js'

const SECRET = 'cluster-secret-for-tests'
const decision: RateDecision = { result: true, remaining: 9, limit: 10, refill: 10, windowSec: 1, resetSec: 1, retryAfterSec: 0 }

interface Side {
  readonly id: string
  readonly app: FastifyInstance
  readonly address: PeerAddress
  transport: UndiciTransport
  /** Batches that came as forward requests, and as stream frames. */
  readonly byRequest: IncrementInput[][]
  readonly inFrames: StreamForward[]
}

interface SideOptions {
  /** false: the peer app does not take forwards in frames (an older peer). */
  readonly streamForwards?: boolean
  /** false: forwards in frames are taken and never answered. */
  readonly answer?: boolean
}

const outcomesFor = (inputs: readonly IncrementInput[]): ForwardOutcome[] =>
  inputs.map((i): ForwardOutcome => (i.cost > 5 ? { ok: false, code: 'INVALID_COST' } : { ok: true, decision: { ...decision, remaining: i.cost } }))

async function startSide(t: Test, id: string, opts: SideOptions = {}): Promise<Side> {
  const byRequest: IncrementInput[][] = []
  const inFrames: StreamForward[] = []
  const side = { id, byRequest, inFrames } as unknown as Side
  const app = buildPeerApp({
    secret: SECRET,
    onMessages: () => {},
    onForward: async (inputs) => {
      byRequest.push(inputs)
      return outcomesFor(inputs)
    },
    ...(opts.streamForwards === false
      ? {}
      : {
          onStreamForwards: (from: string, forwards: readonly StreamForward[]) => {
            inFrames.push(...forwards)
            if (opts.answer === false) return
            for (const f of forwards) side.transport.answerForward(from, f.id, outcomesFor(f.inputs))
          },
        }),
    onStreamAnswers: (from, answers) => side.transport.receiveForwardAnswers(from, answers),
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  return Object.assign(side, { app, address: { id, host: '127.0.0.1', port } })
}

function connect(t: Test, a: Side, b: Side, forwardTimeoutMs = 2_000): void {
  for (const [self, peer] of [[a, b], [b, a]] as const) {
    self.transport = new UndiciTransport({ secret: SECRET, self: self.id, peers: [peer.address], timeoutMs: 1_000, forwardTimeoutMs })
    t.teardown(() => self.transport.close())
  }
}

const heartbeat = (from: string, to: string): Message => ({ type: 'heartbeat', from, to, term: 1, commit: 0, readSeq: 0 })

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Opens `from`'s stream to `to` with a message, and waits until `to` has said it takes forwards in frames. */
async function openStream(from: Side, to: Side): Promise<void> {
  from.transport.send([heartbeat(from.id, to.id)])
  await until('the stream offers forwards', () => from.transport.stats().peers[to.id]?.forwardsInFrames === true)
}

const inputs: IncrementInput[] = [
  { clientId: 'alice', cost: 1, requestId: 'req-1' },
  { clientId: 'bob', cost: 9 },
  { clientId: 'carol', cost: 2 },
]

t.test('forwards ride the stream and the answer comes back in a frame: no request', async (t) => {
  const follower = await startSide(t, 'node-1')
  const leader = await startSide(t, 'node-2')
  connect(t, follower, leader)
  await openStream(follower, leader)
  const outcomes = await follower.transport.forward('node-2', inputs)
  t.strictSame(outcomes, outcomesFor(inputs), 'one outcome per input, in order')
  t.equal(leader.inFrames.length, 1, 'the batch came in a frame')
  t.strictSame(leader.inFrames[0]?.inputs, inputs)
  t.same(leader.byRequest, [], 'no forward request')
  // Concurrent batches are told apart by id.
  const many = await Promise.all([1, 2, 3].map((c) => follower.transport.forward('node-2', [{ clientId: `c${c}`, cost: c }])))
  t.strictSame(many, [1, 2, 3].map((c) => outcomesFor([{ clientId: `c${c}`, cost: c }])))
  t.same(leader.byRequest, [])
})

t.test('a peer that does not offer them gets forwards as requests', async (t) => {
  const follower = await startSide(t, 'node-1')
  const leader = await startSide(t, 'node-2', { streamForwards: false })
  connect(t, follower, leader)
  follower.transport.send([heartbeat('node-1', 'node-2')])
  await until('the stream is open', () => (follower.transport.stats().peers['node-2']?.streamsOpened ?? 0) > 0)
  await new Promise((r) => setTimeout(r, 50))
  t.equal(follower.transport.stats().peers['node-2']?.forwardsInFrames, false)
  t.strictSame(await follower.transport.forward('node-2', inputs), outcomesFor(inputs))
  t.strictSame(leader.byRequest, [inputs], 'sent as a request')
})

t.test('before any stream is open, forwards go as requests', async (t) => {
  const follower = await startSide(t, 'node-1')
  const leader = await startSide(t, 'node-2')
  connect(t, follower, leader)
  t.strictSame(await follower.transport.forward('node-2', inputs), outcomesFor(inputs))
  t.strictSame(leader.byRequest, [inputs])
})

t.test('no answer: the forward fails NO_QUORUM at its deadline, outcome unknown', async (t) => {
  const follower = await startSide(t, 'node-1')
  const leader = await startSide(t, 'node-2', { answer: false })
  connect(t, follower, leader, 300)
  await openStream(follower, leader)
  const started = Date.now()
  await t.rejects(follower.transport.forward('node-2', inputs), { name: 'RateLimiterError', code: 'NO_QUORUM' })
  const took = Date.now() - started
  t.ok(took >= 250 && took < 2_000, `failed at the deadline (${took} ms)`)
  t.equal(leader.inFrames.length, 1, 'it did reach the leader')
})

t.test('a stream that breaks fails its waiting forwards at once, NO_QUORUM', async (t) => {
  const follower = await startSide(t, 'node-1')
  const leader = await startSide(t, 'node-2', { answer: false })
  connect(t, follower, leader, 10_000)
  await openStream(follower, leader)
  const pending = follower.transport.forward('node-2', inputs)
  await until('the forward reached the leader', () => leader.inFrames.length === 1)
  const started = Date.now()
  await leader.app.close()
  await t.rejects(pending, { name: 'RateLimiterError', code: 'NO_QUORUM' })
  t.ok(Date.now() - started < 5_000, 'well before the 10 s deadline')
})

t.test('a follower removed from the membership still gets the answers to the forwards it sent before', async (t) => {
  // The leader drops a removed follower's link once the removal is applied and
  // the follower has heard of it; increments it forwarded just before that sit
  // in later entries and are decided after. Their answers must still reach it.
  const follower = await startSide(t, 'node-1')
  const leader = await startSide(t, 'node-2', { answer: false })
  connect(t, follower, leader)
  await openStream(follower, leader)
  await openStream(leader, follower)
  const pending = follower.transport.forward('node-2', inputs)
  await until('the forward reached the leader', () => leader.inFrames.length === 1)
  leader.transport.setPeers([])
  t.same(Object.keys(leader.transport.stats().peers), [], 'node-1 is no longer a peer of the leader')
  const forward = leader.inFrames[0] as StreamForward
  leader.transport.answerForward('node-1', forward.id, outcomesFor(forward.inputs))
  t.strictSame(await pending, outcomesFor(inputs), 'the answer arrived, not a NO_QUORUM at the deadline')
  t.equal(leader.transport.stats().unroutableMessages, 0)
  leader.transport.send([heartbeat('node-2', 'node-1')])
  t.equal(leader.transport.stats().unroutableMessages, 1, 'Raft messages to it are not routed any more')
})
