// Found by the simulator (seed 15, random schedule with 10% drop): in
// replicate state the leader advances `next` optimistically. If the last
// AppendEntries carrying entries is lost and nothing new is proposed, a
// heartbeat response must still make the leader resend: otherwise the
// follower stays behind forever in a quiet cluster (and ReadIndex reads on
// it never reach their index).
import t from 'tap'
import { RaftNet } from '../support/raft-net.js'

t.test('a follower whose last append was lost catches up on heartbeats alone', async (t) => {
  const net = new RaftNet(['n1', 'n2', 'n3'])
  net.elect('n1')
  net.tickAll(2)
  t.equal(net.node('n1').status().progress.find((p) => p.id === 'n3')?.state, 'replicate', 'n3 is in replicate state')
  net.cut.add('n1>n3')
  net.propose('n1', 'a')
  net.heal()
  t.equal(net.node('n3').status().lastIndex, 1, 'the append carrying "a" was lost')
  net.tickAll(10)
  t.equal(net.node('n3').status().lastIndex, 2, 'n3 received the lost entry')
  t.same(net.appliedData('n3'), ['a'], 'and applied it')
})
