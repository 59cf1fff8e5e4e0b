// A learner that joined with `rejoin` neither votes nor campaigns until a
// leader has confirmed how far it must catch up (a ReadIndex, so a quorum of
// heartbeats). A leader that cannot confirm reads can still append, so it
// could promote such a learner: the promotion is then in the leader's log,
// uncommitted, and the new voter refuses every vote until a leader exists.
// With one voter already down, that is a cluster that can never elect again,
// though a majority of the old voters is up. So a leader refuses to promote a
// learner it knows is still catching up.
import t from 'tap'
import type { Bug, NodeId } from '../../src/raft/types.js'
import { RaftNet } from '../support/raft-net.js'

/**
 * n1 down for good, n2 leads, n4 a rejoining learner with the whole log whose
 * catch-up target n2 cannot confirm: n3 is cut off, so no heartbeat round
 * reaches a majority. `bugs` goes to n2.
 */
function stuckLearner(bugs: readonly Bug[] = []): RaftNet {
  const net = new RaftNet(['n1', 'n2', 'n3'])
  net.crash('n2')
  net.start('n2', undefined, { bugs: new Set(bugs) })
  net.elect('n2')
  net.crash('n1')
  net.addNode('n4', { rejoin: true })
  const r = net.node('n2').proposeConfChange({ type: 'add_learner', id: 'n4' })
  if (!r.ok) throw new Error(`add_learner refused: ${r.reason}`)
  net.stabilize()
  net.cut.add('n2>n3')
  net.cut.add('n3>n2')
  net.tick('n2', 2)
  net.stabilize()
  return net
}

const rejoiningSeenBy = (net: RaftNet, leader: NodeId, id: NodeId): boolean | undefined =>
  net.node(leader).status().progress.find((p) => p.id === id)?.rejoining

t.test('a leader refuses to promote a learner that is still catching up after rejoin', async (t) => {
  const net = stuckLearner()
  t.equal(net.node('n4').rejoining, true, 'n4 has asked, but no answer could be confirmed')
  t.equal(net.node('n2').peerMatch('n4'), net.node('n2').status().lastIndex, "its log is as long as the leader's")
  t.equal(rejoiningSeenBy(net, 'n2', 'n4'), true, 'the leader reports it as rejoining')
  t.same(net.node('n2').proposeConfChange({ type: 'promote', id: 'n4' }), { ok: false, reason: 'learner_rejoining', leader: 'n2' })

  // Once n2 can confirm reads again, n4 learns its target, holds it, and may be promoted.
  net.heal()
  for (let i = 0; i < 4; i++) {
    net.tick('n2')
    net.stabilize()
  }
  t.equal(net.node('n4').rejoining, false, 'n4 caught up')
  t.equal(rejoiningSeenBy(net, 'n2', 'n4'), undefined, 'and the leader knows it')
  t.equal(net.node('n2').proposeConfChange({ type: 'promote', id: 'n4' }).ok, true, 'now the promotion goes ahead')
})

for (const bug of [false, true]) {
  t.test(`the partition heals with n1 still down: ${bug ? 'a promoted rejoining learner leaves the cluster without a leader for good' : 'refused, n2 and n3 elect a leader'}`, async (t) => {
    const net = stuckLearner(bug ? ['promote_rejoining_learner'] : [])
    const r = net.node('n2').proposeConfChange({ type: 'promote', id: 'n4' })
    t.equal(r.ok, bug, bug ? 'the promotion is appended, and cannot commit (n2 and n4 of four voters)' : 'refused')
    net.stabilize()
    // CheckQuorum: n2 hears from too few voters and steps down. Then the partition heals.
    for (let i = 0; i < 30 && net.leaders().length > 0; i++) {
      net.tickAll()
      net.stabilize()
    }
    t.same(net.leaders(), [], 'n2 stepped down')
    net.heal()
    const leader = net.leaderWithin(500, ['n2', 'n3', 'n4'])
    if (bug) {
      t.equal(leader, null, 'no leader in 500 ticks: n2 needs three of four votes, n4 refuses while catching up, n3 lacks the promotion')
    } else {
      t.ok(leader === 'n2' || leader === 'n3', `${leader} elected by n2 and n3`)
    }
  })
}
