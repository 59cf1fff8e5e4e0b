// Found by the simulator (seed 19395, slow disk + unreliable network): a
// pre-vote grant from an earlier round arrived late and was counted toward the
// current round, so a node with no current majority pre-vote became a
// candidate, bumped its term and later deposed a healthy leader. A grant is
// sent at the term it grants (our term + 1 while we are a pre-candidate), so a
// grant carrying our current term is from a previous round and must not count.
import t from 'tap'
import type { Message } from '../../src/raft/types.js'
import { RaftNet } from '../support/raft-net.js'

t.test('a stale pre-vote grant does not count in a later pre-vote round', async (t) => {
  const net = new RaftNet(['n1', 'n2', 'n3'])
  const n1 = net.node('n1')
  const take = (pred: (m: Message) => boolean): Message[] => {
    const hit = net.queue.filter(pred)
    net.queue = net.queue.filter((m) => !pred(m))
    return hit
  }
  for (let i = 0; i < 100 && n1.currentRole !== 'precandidate'; i++) net.tick('n1')
  t.equal(n1.currentRole, 'precandidate')
  for (const m of take(() => true)) net.deliver(m)
  net.flush()
  const stale = take((m) => m.type === 'prevote_resp' && m.from === 'n2')
  t.equal(stale.length, 1, 'n2 granted the first pre-vote; its answer is held back')
  for (const m of take((m) => m.type === 'prevote_resp')) net.deliver(m)
  net.flush()
  t.equal(n1.currentRole, 'candidate', 'n3 grant: n1 campaigns at term 1')
  take(() => true) // its vote requests are lost
  for (let i = 0; i < 100 && n1.currentRole !== 'precandidate'; i++) net.tick('n1')
  t.equal(n1.currentRole, 'precandidate', 'n1 pre-campaigns again, for term 2')
  take(() => true) // and this round's pre-votes are lost too
  for (const m of stale) net.deliver(m)
  net.flush()
  t.equal(n1.currentRole, 'precandidate', 'the late grant for term 1 does not make it a candidate for term 2')
  t.equal(n1.currentTerm, 1)
})
