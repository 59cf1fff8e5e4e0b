// Found by the simulator (seed 17000762, 3 nodes, grow-shrink): a leader
// appended its own removal and lost leadership before the removal committed.
// Its log was now the longest, and its latest configuration no longer named
// it, so it never campaigned. The others, still under the older configuration,
// needed its vote or that of a voter that was down, and it refused them
// (their logs were behind its own). No leader, for good, with a majority of
// either configuration up.
// A node removed by a configuration entry it does not know to be committed,
// and a voter before that entry, now campaigns; like any candidate it counts
// the votes of its latest configuration, so not its own. Once elected it
// commits the removal and hands over (thesis §4.2.2).
import t from 'tap'
import { runSeed } from '../../src/sim/run.js'
import { RaftNet } from '../support/raft-net.js'

t.test('a leader that appended its own removal, then lost leadership, leads the removal to its commit', async (t) => {
  // Four voters, n4 down for good: any three of the others form a majority.
  const net = new RaftNet(['n1', 'n2', 'n3', 'n4'])
  net.elect('n1')
  net.propose('n1', 'a')
  net.crash('n4')
  // n1 appends its removal, and no one else gets it.
  net.isolate('n1')
  const r = net.node('n1').proposeConfChange({ type: 'remove', id: 'n1' })
  t.equal(r.ok, true)
  net.stabilize()
  t.same(net.node('n1').status().voters, ['n2', 'n3', 'n4'], 'n1 is out of its own latest configuration')
  // CheckQuorum steps it down; then the partition heals.
  for (let i = 0; i < 40 && net.node('n1').currentRole === 'leader'; i++) net.tick('n1')
  t.equal(net.node('n1').currentRole, 'follower')
  net.heal()

  const leader = net.leaderWithin(300, ['n1', 'n2', 'n3'])
  t.ok(leader !== null, `a leader is elected (${leader}): n2 and n3 need n1's vote under the old configuration, and n1 can win theirs under the new one`)
  // Whoever leads, the removal commits and n1 ends up outside, following.
  for (let i = 0; i < 60; i++) {
    net.tickAll()
    net.stabilize()
  }
  const final = net.leaders()
  t.equal(final.length, 1)
  t.ok(final[0] === 'n2' || final[0] === 'n3', `${final[0]} leads the new configuration`)
  for (const id of ['n2', 'n3']) t.same(net.node(id).status().voters, ['n2', 'n3', 'n4'], `${id} holds the removal`)
  t.ok(net.node('n2').status().commit >= (r.ok ? r.index : Infinity), 'and it is committed')
  t.equal(net.node('n1').currentRole, 'follower', 'n1 is outside, and does not campaign again')
})

t.test('a removed node that knows its removal committed never campaigns', async (t) => {
  const net = new RaftNet(['n1', 'n2', 'n3', 'n4'])
  net.elect('n1')
  const r = net.node('n1').proposeConfChange({ type: 'remove', id: 'n4' })
  t.equal(r.ok, true)
  net.stabilize()
  net.tickAll(2)
  net.stabilize()
  t.ok(net.node('n4').status().commit >= (r.ok ? r.index : Infinity), 'n4 learned that its removal committed')
  net.isolate('n4')
  for (let i = 0; i < 100; i++) net.tick('n4')
  t.equal(net.node('n4').currentRole, 'follower', 'it never campaigns, however long it hears nothing')
})

t.test('the simulator seed that found it elects a leader after healing', async (t) => {
  const r = runSeed({ seed: 17000762, nodes: 3, scenario: 'grow-shrink' })
  t.equal(r.violation?.message ?? null, null, r.replay)
})
