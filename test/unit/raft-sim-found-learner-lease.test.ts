// Found by the simulator (seeds 13000196 and 13001296, 3 nodes, grow-shrink):
// a node that does not campaign (a learner in its own log, or a node still
// catching up after `rejoin`) did not count election ticks at all. So once its
// leader went away, its CheckQuorum lease on that leader never expired, and
// it dropped every vote and pre-vote request without an answer. In 13001296 a
// spare whose own log still had it as a learner was a voter in the candidates'
// logs; its silence left them one vote short, and no leader was ever elected.
// Every node now counts election ticks; only voters that have caught up campaign.
import t from 'tap'
import type { Message } from '../../src/raft/types.js'
import { runSeed } from '../../src/sim/run.js'
import { RaftNet } from '../support/raft-net.js'

/** A pre-vote for term + 1 from a candidate whose log is as long as any. */
function prevoteFrom(net: RaftNet, from: string, to: string): Message {
  const st = net.node(from).status()
  const lastTerm = net.node(from).termAt(st.lastIndex) ?? 0
  return { type: 'prevote', from, to, term: st.term + 1, lastIndex: st.lastIndex, lastTerm }
}

/** What `to` answers a pre-vote from `from`, delivered on its own. */
function prevoteAnswers(net: RaftNet, from: string, to: string): Message[] {
  net.queue = []
  net.deliver(prevoteFrom(net, from, to))
  net.flush()
  return net.queue.filter((m) => m.from === to)
}

t.test('a learner whose leader has gone answers pre-votes once an election timeout has passed', async (t) => {
  const net = new RaftNet(['n1', 'n2', 'n3'])
  net.elect('n1')
  net.addNode('n4')
  const r = net.node('n1').proposeConfChange({ type: 'add_learner', id: 'n4' })
  if (!r.ok) throw new Error(`add_learner refused: ${r.reason}`)
  net.stabilize()
  net.tickAll(3)
  net.stabilize()
  t.equal(net.node('n4').currentLeader, 'n1', 'the learner follows n1')

  net.crash('n1')
  t.same(prevoteAnswers(net, 'n2', 'n4'), [], 'within its lease it ignores a pre-vote, as a voter does')

  net.tick('n4', 20)
  const answers = prevoteAnswers(net, 'n2', 'n4').filter((m) => m.type === 'prevote_resp')
  t.equal(answers.length, 1, 'two election timeouts without its leader: it answers')
  t.equal(answers[0]?.type === 'prevote_resp' && !answers[0].reject, true, 'and grants a candidate whose log is up to date')
  t.equal(net.node('n4').currentRole, 'follower', 'it still never campaigns')
})

t.test('a rejoining node whose leader has gone answers pre-votes (with a refusal) instead of ignoring them', async (t) => {
  const net = new RaftNet(['n1', 'n2', 'n3'])
  net.elect('n1')
  net.wipeAndRejoin('n3')
  // Heartbeats reach n3, so it knows n1; its rejoin asks are lost, so it keeps catching up.
  net.tick('n1', 2)
  net.queue = net.queue.filter((m) => m.to === 'n3' && m.type === 'heartbeat')
  for (const m of net.queue.splice(0)) net.deliver(m)
  net.flush()
  t.equal(net.node('n3').currentLeader, 'n1')
  t.equal(net.node('n3').rejoining, true)

  net.crash('n1')
  net.tick('n3', 20)
  const answers = prevoteAnswers(net, 'n2', 'n3').filter((m) => m.type === 'prevote_resp')
  t.equal(answers.length, 1, 'it answers')
  t.equal(answers[0]?.type === 'prevote_resp' && answers[0].reject, true, 'with a refusal: it has not caught up')
  t.equal(net.node('n3').currentRole, 'follower', 'and it does not campaign')
})

t.test('the simulator seeds that found it elect a leader after healing', async (t) => {
  for (const seed of [13000196, 13001296]) {
    const r = runSeed({ seed, nodes: 3, scenario: 'grow-shrink' })
    t.equal(r.violation?.message ?? null, null, r.replay)
  }
})
