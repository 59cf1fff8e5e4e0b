import t from 'tap'
import { RaftNet } from '../support/raft-net.js'

const ids = ['n1', 'n2', 'n3']

t.test('a node that times out wins the election and others follow it', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  t.same(net.leaders(), ['n1'])
  for (const id of ids) {
    t.equal(net.node(id).currentLeader, 'n1', `${id} knows the leader`)
    t.equal(net.node(id).currentTerm, 1, `${id} is at term 1`)
  }
  // The new leader's no-op commits everywhere.
  net.tickAll(2)
  for (const id of ids) t.equal(net.node(id).status().commit, 1)
})

t.test('ticking everyone elects exactly one leader per term (election safety)', async (t) => {
  for (let seed = 1; seed <= 30; seed++) {
    const net = new RaftNet(ids, {}, seed)
    const leadersByTerm = new Map<number, Set<string>>()
    for (let i = 0; i < 200; i++) {
      net.tickAll()
      for (const id of net.leaders()) {
        const term = net.node(id).currentTerm
        const set = leadersByTerm.get(term) ?? new Set()
        set.add(id)
        leadersByTerm.set(term, set)
      }
    }
    t.ok(leadersByTerm.size >= 1, `seed ${seed}: a leader was elected`)
    for (const [term, set] of leadersByTerm) t.equal(set.size, 1, `seed ${seed}: one leader in term ${term}`)
  }
})

t.test('a vote is refused to a candidate with a less up-to-date log', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.isolate('n3')
  net.propose('n1', 'a', 'b')
  net.heal()
  // n3 missed entries; even with pre-vote off it must not win.
  net.crash('n1')
  for (let i = 0; i < 60; i++) {
    net.node('n3').tick()
    net.stabilize()
  }
  t.not(net.node('n3').currentRole, 'leader', 'stale n3 never wins')
  net.tickAll(40)
  t.same(net.leaders(), ['n2'], 'n2, which has the entries, wins')
  t.same(net.appliedData('n2'), ['a', 'b'])
})

t.test('a vote is persisted before the reply leaves (persist before you speak)', async (t) => {
  const net = new RaftNet(ids, { preVote: false })
  const n1 = net.node('n1')
  for (let i = 0; i < 40 && n1.currentRole !== 'candidate'; i++) n1.tick()
  t.equal(n1.currentRole, 'candidate')
  const rd1 = n1.ready()
  t.ok(rd1.hardState !== null && rd1.hardState.vote === 'n1', 'candidate persists its own vote')
  t.equal(rd1.messages.length, 0, 'no vote request before the vote is durable')
  t.equal(rd1.persistedMessages.filter((m) => m.type === 'vote').length, 2)
  n1.advance(rd1)
  const n2 = net.node('n2')
  const req = rd1.persistedMessages.find((m) => m.to === 'n2')
  if (req === undefined) throw new Error('no request')
  n2.step(req)
  const rd2 = n2.ready()
  t.equal(rd2.hardState?.vote, 'n1')
  t.equal(rd2.messages.length, 0, 'grant is not sent before persisting')
  t.equal(rd2.persistedMessages[0]?.type, 'vote_resp')
})

t.test('bug switch vote_not_persisted_before_reply sends the grant at once', async (t) => {
  const net = new RaftNet(ids, { preVote: false, bugs: new Set(['vote_not_persisted_before_reply'] as const) })
  const n1 = net.node('n1')
  for (let i = 0; i < 40 && n1.currentRole !== 'candidate'; i++) n1.tick()
  const rd1 = n1.ready()
  n1.advance(rd1)
  const n2 = net.node('n2')
  const req = rd1.persistedMessages.find((m) => m.to === 'n2')
  if (req === undefined) throw new Error('no request')
  n2.step(req)
  const rd2 = n2.ready()
  t.equal(rd2.messages[0]?.type, 'vote_resp', 'grant goes out before its vote is durable')
})

t.test('PreVote: an isolated follower does not disrupt the leader when it heals', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.isolate('n3')
  for (let i = 0; i < 100; i++) net.tickAll()
  t.equal(net.node('n3').currentTerm, 1, 'pre-votes never raised its term')
  t.not(net.node('n3').currentRole, 'leader')
  net.heal()
  net.tickAll(5)
  t.same(net.leaders(), ['n1'], 'leader unchanged after heal')
  t.equal(net.node('n1').currentTerm, 1, 'term unchanged after heal')
})

t.test('without PreVote the same partition bumps terms and disrupts the leader', async (t) => {
  const net = new RaftNet(ids, { preVote: false, checkQuorum: false })
  net.elect('n1')
  net.isolate('n3')
  for (let i = 0; i < 100; i++) net.tickAll()
  t.ok(net.node('n3').currentTerm > 1, 'isolated node raised its term')
  net.heal()
  net.tickAll(30)
  t.ok(net.node('n1').currentTerm > 1, 'the old leader was forced into a new term')
})

t.test('CheckQuorum: an isolated leader steps down within an election timeout', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.isolate('n1')
  let steppedDownAfter = -1
  for (let i = 0; i < 40; i++) {
    net.tick('n1')
    if (net.node('n1').currentRole !== 'leader') {
      steppedDownAfter = i + 1
      break
    }
  }
  t.ok(steppedDownAfter > 0 && steppedDownAfter <= 20, `stepped down after ${steppedDownAfter} ticks`)
  const r = net.node('n1').propose(['x'])
  t.equal(r.ok, false, 'a deposed leader refuses proposals')
})

t.test('CheckQuorum lease: followers ignore a candidate while the leader is alive', async (t) => {
  const net = new RaftNet(ids, { preVote: false })
  net.elect('n1')
  net.cut.add('n1>n3') // n3 no longer hears the leader, n2 does
  for (let i = 0; i < 60; i++) net.tickAll()
  t.equal(net.node('n2').currentLeader, 'n1', 'n2 keeps following n1')
  t.ok(net.leaders().includes('n1') || net.node('n3').currentRole !== 'leader', 'n3 cannot win without n2')
  t.not(net.node('n3').currentRole, 'leader')
})
