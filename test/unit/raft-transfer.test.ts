import t from 'tap'
import type { Message } from '../../src/raft/types.js'
import { RaftNet } from '../support/raft-net.js'

const ids = ['n1', 'n2', 'n3']

t.test('leadership moves to the named follower without an election timeout', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.propose('n1', 'a')
  const term = net.node('n1').currentTerm
  t.ok(net.node('n1').transferLeadership('n2'))
  net.stabilize() // no ticks at all: only messages
  t.same(net.leaders(), ['n2'], 'n2 leads')
  t.equal(net.node('n2').currentTerm, term + 1, 'one term later')
  net.propose('n2', 'b')
  net.tickAll(2)
  for (const id of ids) t.same(net.appliedData(id), ['a', 'b'], `${id} lost nothing`)
})

t.test('a lagging transferee is caught up first, and proposals wait during the transfer', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.isolate('n3')
  for (let i = 0; i < 10; i++) net.propose('n1', `c${i}`)
  net.heal()
  let timeoutNowBeforeCaughtUp = false
  const deliver = net.deliver.bind(net)
  net.deliver = (m: Message) => {
    if (m.type === 'timeout_now' && net.node('n3').status().lastIndex < net.node('n1').status().lastIndex) timeoutNowBeforeCaughtUp = true
    deliver(m)
  }
  t.ok(net.node('n1').transferLeadership('n3'))
  t.same(net.node('n1').propose(['late']), { ok: false, leader: 'n3' }, 'proposals refused while transferring')
  net.tickAll(3) // heartbeats reopen n3's replication window
  t.notOk(timeoutNowBeforeCaughtUp, 'TimeoutNow only once the transferee matched the log')
  t.same(net.leaders(), ['n3'])
  t.equal(net.appliedData('n3').length, 10)
})

t.test('a transfer to an unreachable follower is abandoned after an election timeout', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.isolate('n3')
  t.ok(net.node('n1').transferLeadership('n3'))
  t.equal(net.node('n1').status().transferringTo, 'n3')
  for (let i = 0; i < 10; i++) net.tick('n1')
  t.equal(net.node('n1').status().transferringTo, undefined, 'transfer given up')
  t.equal(net.node('n1').currentRole, 'leader', 'still leading')
  t.equal(net.node('n1').propose(['x']).ok, true, 'accepting proposals again')
})

t.test('only a leader transfers, and only to a peer', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  t.notOk(net.node('n2').transferLeadership('n3'))
  t.notOk(net.node('n1').transferLeadership('n1'))
  t.notOk(net.node('n1').transferLeadership('nobody'))
})
