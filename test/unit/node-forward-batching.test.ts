// A follower's increments go to the leader in few, large requests: at most
// MAX_FORWARDS_IN_FLIGHT (4) at once, and what arrives meanwhile leaves
// together when one returns. Driven with a fake transport and a real driver.
import t from 'tap'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { RaftDriver } from '../../src/node/raft-driver.js'
import { RateLimiterNode } from '../../src/node/rate-limiter-node.js'
import type { Message, NodeId } from '../../src/raft/types.js'
import type { IncrementInput, RateDecision } from '../../src/service.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import { nodeHooks } from '../support/node-hooks.js'
import type { ForwardOutcome, PeerAddress, Transport } from '../../src/transport/port.js'

const decision: RateDecision = { result: true, remaining: 9, limit: 10, refill: 10, windowSec: 1, resetSec: 1, retryAfterSec: 0 }
const quiet = { info: () => {}, warn: () => {}, error: () => {} }

class HeldForwards implements Transport {
  readonly calls: { inputs: readonly IncrementInput[]; answer: () => void }[] = []
  send(_messages: readonly Message[]): void {}
  forward(_to: NodeId, inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    return new Promise((resolve) => {
      this.calls.push({ inputs, answer: () => resolve(inputs.map(() => ({ ok: true, decision }))) })
    })
  }
  sendSnapshot(): Promise<void> {
    return Promise.resolve()
  }
  setPeers(_peers: readonly PeerAddress[]): void {}
  close(): Promise<void> {
    return Promise.resolve()
  }
}

t.test('with 4 forwards out, later increments wait and leave in one request', async (t) => {
  const transport = new HeldForwards()
  const node = new RateLimiterNode({
    id: 'n1',
    policy: { refill: 10, windowMs: 1000, burst: 10 },
    requestTimeoutMs: 5000,
    transport,
    logger: quiet,
  })
  const store = new MemoryLogStore()
  const driver = new RaftDriver({
    raft: { id: 'n1', voters: ['n1', 'n2', 'n3'], electionTicks: 10, heartbeatTicks: 2, maxInflight: 8, maxBatchEntries: 100, preVote: true, checkQuorum: true },
    tickMs: 60_000,
    snapshotEntries: 1_000_000,
    store,
    transport,
    restored: await store.load(),
    hooks: nodeHooks(node, (err) => t.fail(String(err))),
  })
  node.attach(driver)
  driver.start()
  t.teardown(() => driver.stop())
  // n2 leads: a heartbeat of its term makes n1 a follower that knows it.
  driver.receive([{ type: 'heartbeat', from: 'n2', to: 'n1', term: 1, commit: 0, readSeq: 0 }])
  await nextTurn()
  t.equal(driver.core.currentLeader, 'n2')

  const answers: Promise<RateDecision>[] = []
  // Four turns, one increment each: four requests, the most allowed at once.
  for (let i = 0; i < 4; i++) {
    answers.push(node.increment({ clientId: `a${i}`, cost: 1 }))
    await nextTurn()
  }
  t.same(transport.calls.map((c) => c.inputs.length), [1, 1, 1, 1])
  // Three more turns while all four are out: nothing leaves yet.
  for (let i = 0; i < 3; i++) {
    answers.push(node.increment({ clientId: `b${i}`, cost: 1 }))
    await nextTurn()
  }
  t.equal(transport.calls.length, 4, 'the limit holds')
  transport.calls[0]?.answer()
  await nextTurn()
  await nextTurn()
  t.same(transport.calls.map((c) => c.inputs.length), [1, 1, 1, 1, 3], 'the waiting three leave together once one returns')
  t.same(transport.calls[4]?.inputs.map((i) => i.clientId), ['b0', 'b1', 'b2'])
  for (const c of transport.calls.slice(1)) c.answer()
  const got = await Promise.all(answers)
  t.equal(got.length, 7)
  t.ok(got.every((d) => d.result), 'every increment got its answer')
})
