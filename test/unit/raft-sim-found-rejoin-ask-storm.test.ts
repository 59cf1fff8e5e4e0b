// Found by the simulator (seed 8200280, 5 nodes, grow-shrink): the leader was
// cut off from the old voters while two spares, started with `rejoin`, were
// still learners. A rejoining node asked for its catch-up target (a ReadIndex)
// on every heartbeat; the leader, unable to confirm reads, answered each ask
// with another heartbeat round, and each round drew an ask from both spares,
// so the messages doubled every round trip until the run ground to a halt.
// A rejoining node now asks at most once a tick.
import t from 'tap'
import type { Message } from '../../src/raft/types.js'
import { runSeed } from '../../src/sim/run.js'
import { RaftNet } from '../support/raft-net.js'

const isRejoinAsk = (m: Message): boolean => m.type === 'read_index' && m.from === 'n2'

t.test('a rejoining node asks for its catch-up target at most once a tick, however many heartbeats arrive', async (t) => {
  const net = new RaftNet(['n1', 'n2', 'n3'])
  net.elect('n1')
  net.wipeAndRejoin('n2')
  // A heartbeat round from the leader, whose answers are dropped so n2 keeps asking.
  for (let i = 0; i < 10 && !net.queue.some((m) => m.type === 'heartbeat' && m.to === 'n2'); i++) net.tick('n1')
  const heartbeat = net.queue.find((m) => m.type === 'heartbeat' && m.to === 'n2')
  if (heartbeat === undefined) throw new Error('the leader sent n2 no heartbeat')
  net.queue = []
  for (let i = 0; i < 5; i++) net.deliver(heartbeat)
  net.flush()
  t.equal(net.queue.filter(isRejoinAsk).length, 1, 'five heartbeats within a tick: one ask')
  net.queue = []
  net.tick('n2')
  net.queue = []
  net.deliver(heartbeat)
  net.flush()
  t.equal(net.queue.filter(isRejoinAsk).length, 1, 'the next tick allows the next ask (an ask or its answer may be lost)')
  t.equal(net.node('n2').rejoining, true, 'no answer reached n2: it is still catching up')
})

t.test('the simulator seed that found it runs to the end without a message storm', async (t) => {
  const r = runSeed({ seed: 8200280, nodes: 5, scenario: 'grow-shrink' })
  t.equal(r.violation?.message ?? null, null, r.replay)
  t.ok(r.stats.events < 100_000, `${r.stats.events} events`)
})
