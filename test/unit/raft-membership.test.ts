import t from 'tap'
import type { ConfChange, Message, NodeId, RaftConfig } from '../../src/raft/types.js'
import { RaftNet } from '../support/raft-net.js'

const ids = ['n1', 'n2', 'n3']

const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`)

/** Proposes c<from>..c<from+n-1> on `leader`, one at a time. */
function proposeMany(net: RaftNet, leader: NodeId, from: number, n: number): void {
  for (let i = from; i < from + n; i++) net.propose(leader, `c${i}`)
}

function change(net: RaftNet, leader: NodeId, type: ConfChange['type'], id: NodeId): void {
  const r = net.node(leader).proposeConfChange({ type, id })
  if (!r.ok) throw new Error(`${leader} refused ${type} ${id}: ${r.reason}`)
  net.stabilize()
  net.notifyCommits()
}

function members(net: RaftNet, id: NodeId): { voters: NodeId[]; learners: NodeId[] } {
  const st = net.node(id).status()
  return { voters: [...st.voters], learners: [...st.learners] }
}

/** Ticks every live node until one of `among` leads (other than `not`). */
function awaitLeader(net: RaftNet, among: NodeId[], not: NodeId | null = null): NodeId {
  for (let i = 0; i < 200; i++) {
    const l = net.leaders().find((id) => among.includes(id) && id !== not)
    if (l !== undefined) return l
    net.tickAll()
  }
  throw new Error('no leader elected')
}

t.test('a learner catches up and receives every committed entry, but an election never counts it', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 5)
  net.addNode('n4')
  t.same(members(net, 'n4'), { voters: ids, learners: ['n4'] }, 'a joining node starts as a learner of the initial config')
  change(net, 'n1', 'add_learner', 'n4')
  net.tickAll(3)
  proposeMany(net, 'n1', 5, 5)
  t.same(net.appliedData('n4'), expected(10), 'caught up from an empty disk')
  const indexes = (id: NodeId) => (net.applied.get(id) ?? []).map((e) => `${e.index}/${e.term}/${e.kind}`)
  t.same(indexes('n4'), indexes('n1'), 'every committed entry, noops and config entries included')
  for (const id of [...ids, 'n4']) t.same(members(net, id), { voters: ids, learners: ['n4'] }, `${id} sees the learner`)
  t.ok(net.node('n1').status().progress.some((p) => p.id === 'n4' && p.match === net.node('n1').status().lastIndex), 'the leader tracks it')

  // The learner is never asked for a vote, and without a voter majority nobody wins.
  const asked: Message[] = []
  const deliver = net.deliver.bind(net)
  net.deliver = (m: Message) => {
    if ((m.type === 'vote' || m.type === 'prevote') && m.to === 'n4') asked.push(m)
    deliver(m)
  }
  net.crash('n1')
  net.crash('n3')
  net.tickAll(100)
  t.same(net.leaders(), [], 'n2 + learner n4 elect no one')
  t.equal(asked.length, 0, 'no vote request went to the learner')
  t.equal(net.node('n4').currentRole, 'follower', 'the learner never campaigned')
})

t.test('a promoted learner counts: quorum is then 3 of 4', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.addNode('n4')
  change(net, 'n1', 'add_learner', 'n4')
  proposeMany(net, 'n1', 0, 3)
  change(net, 'n1', 'promote', 'n4')
  t.same(members(net, 'n1'), { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] })
  t.same(members(net, 'n4'), { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] })

  // n1 + n2 were a majority of 3; of 4 they are not.
  net.isolate('n3')
  net.isolate('n4')
  const before = net.node('n1').status().commit
  const r = net.node('n1').propose(['x'])
  t.ok(r.ok)
  net.stabilize()
  t.equal(net.node('n1').status().commit, before, '2 of 4 does not commit')
  net.cut.delete('n1>n3')
  net.cut.delete('n3>n1')
  net.tickAll(2)
  t.ok(net.node('n1').status().commit >= (r.ok ? r.firstIndex : Infinity), '3 of 4 commits')
  net.heal()
  net.tickAll(2)
  t.same(net.appliedData('n4'), [...expected(3), 'x'])
})

t.test('grow 3 -> 5 one at a time and shrink back to 3 while proposals continue', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  let n = 0
  const step = (type: ConfChange['type'], id: NodeId): void => {
    const r = net.node('n1').proposeConfChange({ type, id })
    t.ok(r.ok, `${type} ${id}`)
    // Proposals ride along with the change, before it commits.
    t.ok(net.node('n1').propose([`c${n++}`]).ok)
    t.ok(net.node('n1').propose([`c${n++}`]).ok)
    net.stabilize()
    net.tickAll(2)
    proposeMany(net, 'n1', n, 2)
    n += 2
  }
  proposeMany(net, 'n1', n, 3)
  n += 3
  net.addNode('n4')
  step('add_learner', 'n4')
  step('promote', 'n4')
  net.addNode('n5')
  step('add_learner', 'n5')
  step('promote', 'n5')
  t.same(members(net, 'n5'), { voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: [] })
  const at5 = net.appliedData('n1').length
  step('remove', 'n2')
  step('remove', 'n3')
  t.same(members(net, 'n1'), { voters: ['n1', 'n4', 'n5'], learners: [] })
  for (const id of ['n1', 'n4', 'n5']) {
    t.same(members(net, id), { voters: ['n1', 'n4', 'n5'], learners: [] }, `${id}: final config`)
    t.same(net.appliedData(id), expected(n), `${id}: every committed command, in order`)
  }
  for (const id of ['n2', 'n3']) {
    const got = net.appliedData(id)
    t.ok(got.length >= at5, `${id} applied everything up to its removal`)
    t.same(got, expected(got.length), `${id}: a prefix, nothing out of order`)
  }
  t.same(net.node('n1').status().progress.map((p) => p.id).sort(), ['n4', 'n5'], 'removed followers are sent nothing')

  // The new 3-node cluster survives the loss of one of its members, without n2 and n3.
  net.crash('n2')
  net.crash('n3')
  net.crash('n1')
  const leader = awaitLeader(net, ['n4', 'n5'])
  net.propose(leader, 'after')
  t.same(net.appliedData(leader === 'n4' ? 'n5' : 'n4'), [...expected(n), 'after'], 'n4 + n5 are a majority of {n1, n4, n5}')
})

t.test('a leader that removes itself leads until the change commits, then steps down', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 3)
  net.isolate('n3')
  const r = net.node('n1').proposeConfChange({ type: 'remove', id: 'n1' })
  t.ok(r.ok)
  net.stabilize()
  t.same(members(net, 'n1').voters, ['n2', 'n3'], 'in effect on the leader at once')
  t.equal(net.node('n1').currentRole, 'leader', 'still leading: n1 + n2 is no quorum of {n2, n3}')
  t.ok(net.node('n1').status().commit < (r.ok ? r.index : 0), 'not committed without n3')
  net.heal()
  net.tickAll(1)
  t.equal(net.node('n1').status().commit >= (r.ok ? r.index : Infinity), true, 'committed once n3 has it')
  t.equal(net.node('n1').currentRole, 'follower', 'then it steps down')
  const leader = awaitLeader(net, ['n2', 'n3'])
  net.tickAll(30)
  t.equal(net.node('n1').currentRole, 'follower', 'and never campaigns again')
  t.same(net.leaders(), [leader])
  net.propose(leader, 'c3')
  net.tickAll(2)
  for (const id of ['n2', 'n3']) t.same(net.appliedData(id), expected(4), `${id} has everything`)
})

t.test('a leader removing itself takes no new commands and, once removed, hands over without an election timeout', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 2)
  const r = net.node('n1').proposeConfChange({ type: 'remove', id: 'n1' })
  t.ok(r.ok)
  t.same(net.node('n1').propose(['late']), { ok: false, leader: null }, 'refused: it would never learn that it committed')
  net.stabilize()
  t.equal(net.node('n1').currentRole, 'follower', 'stepped down once the change committed')
  t.equal(net.leaders().length, 1, 'a new leader without a single tick')
  t.ok(['n2', 'n3'].includes(net.leaders()[0] ?? ''), 'among the remaining voters')
})

t.test('refusals', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  const refuse = (id: NodeId, type: ConfChange['type'], who: NodeId) => {
    const r = net.node(id).proposeConfChange({ type, id: who })
    return r.ok ? 'ok' : r.reason
  }
  t.same(net.node('n2').proposeConfChange({ type: 'add_learner', id: 'n4' }), { ok: false, reason: 'not_leader', leader: 'n1' })
  t.equal(refuse('n1', 'promote', 'n2'), 'not_learner', 'promote a voter')
  t.equal(refuse('n1', 'promote', 'n9'), 'not_learner', 'promote a stranger')
  t.equal(refuse('n1', 'add_learner', 'n2'), 'already_member')
  t.equal(refuse('n1', 'remove', 'n9'), 'not_member')

  net.isolate('n1')
  t.equal(refuse('n1', 'add_learner', 'n4'), 'ok')
  t.equal(refuse('n1', 'add_learner', 'n5'), 'change_pending', 'one change at a time')
  t.equal(refuse('n1', 'remove', 'n4'), 'change_pending')
  net.heal()
  net.tickAll(2)
  t.equal(refuse('n1', 'add_learner', 'n4'), 'already_member', 'the first one committed')
  t.equal(refuse('n1', 'remove', 'n4'), 'ok', 'and the next may go')
  net.notifyCommits()

  t.ok(net.node('n1').transferLeadership('n2'))
  t.equal(refuse('n1', 'add_learner', 'n6'), 'transferring')
  net.stabilize()
  t.same(net.leaders(), ['n2'])

  // A new leader must commit an entry of its term first: hold back its noop's acks.
  const deliver = net.deliver.bind(net)
  let holdAcks = true
  net.deliver = (m: Message) => {
    if (holdAcks && m.type === 'append_resp' && m.to === 'n3') return
    deliver(m)
  }
  t.ok(net.node('n2').transferLeadership('n3'))
  net.stabilize()
  t.same(net.leaders(), ['n3'])
  t.equal(refuse('n3', 'add_learner', 'n6'), 'not_committed_in_term')
  holdAcks = false
  net.tickAll(2)
  t.equal(refuse('n3', 'add_learner', 'n6'), 'ok')

  const solo = new RaftNet(['s1'])
  solo.elect('s1')
  t.same(solo.node('s1').proposeConfChange({ type: 'remove', id: 's1' }), { ok: false, reason: 'no_voters', leader: 's1' })
  t.notOk(net.node('n3').transferLeadership('n6'), 'no transfer to a learner')
})

t.test('an uncommitted config entry cut away on a follower reverts its config', async (t) => {
  const five = ['n1', 'n2', 'n3', 'n4', 'n5']
  const net = new RaftNet(five)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 2)
  for (const to of ['n3', 'n4', 'n5']) net.cut.add(`n1>${to}`)
  t.ok(net.node('n1').proposeConfChange({ type: 'add_learner', id: 'n6' }).ok)
  net.stabilize()
  t.same(members(net, 'n2'), { voters: five, learners: ['n6'] }, 'in effect on n2 before it commits')
  net.crash('n1')
  net.heal()
  net.isolate('n2')
  const leader = awaitLeader(net, ['n3', 'n4', 'n5'])
  net.heal()
  net.tickAll(3)
  t.same(members(net, 'n2'), { voters: five, learners: [] }, 'truncated: back to the previous config')
  t.equal(net.node('n2').status().lastIndex, net.node(leader).status().lastIndex)
  net.propose(leader, 'c2')
  t.same(net.appliedData('n2'), expected(3))
})

t.test('a restart restores the config from the log, and from a snapshot', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.addNode('n4')
  change(net, 'n1', 'add_learner', 'n4')
  change(net, 'n1', 'promote', 'n4')
  net.addNode('n5')
  change(net, 'n1', 'add_learner', 'n5')
  proposeMany(net, 'n1', 0, 3)
  net.tickAll(2)
  const want = { voters: ['n1', 'n2', 'n3', 'n4'], learners: ['n5'] }

  for (const id of ['n2', 'n4', 'n5']) {
    net.crash(id)
    net.start(id)
    t.same(members(net, id), want, `${id}: from the entries on disk`)
  }
  net.tickAll(2)

  // Compacted past every config entry: only the snapshot knows the config.
  const at = net.compact('n2')
  t.same(net.disks.get('n2')?.snapshot?.config, want, 'the snapshot carries the config at its index')
  t.notOk((net.disks.get('n2')?.entries ?? []).some((e) => e.kind === 'config'), 'no config entry left in the log')
  net.crash('n2')
  net.start('n2')
  t.equal(net.node('n2').status().snapshotIndex, at)
  t.same(members(net, 'n2'), want, 'n2: from the snapshot')

  // A node that catches up by InstallSnapshot learns the config from it.
  net.compact('n1')
  net.crash('n5')
  net.disks.set('n5', { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null })
  net.start('n5')
  net.tickAll(5)
  t.ok((net.installs.get('n5') ?? 0) >= 1, 'n5 installed a snapshot')
  t.same(members(net, 'n5'), want, 'n5: from the leader\'s snapshot')
  net.propose('n1', 'c3')
  t.same(net.appliedData('n5'), expected(4))
})

/**
 * n1 leads {n1, n2, n3} with n4 and n5 added as learners (caught up), then is
 * cut off from its fellow voters n2 and n3; the learners still reach it.
 */
function leaderCutFromVotersWithLearners(overrides: Partial<RaftConfig> = {}): RaftNet {
  const net = new RaftNet(ids, overrides)
  net.elect('n1')
  for (const id of ['n4', 'n5']) {
    net.addNode(id)
    change(net, 'n1', 'add_learner', id)
  }
  for (const id of ['n2', 'n3']) {
    net.cut.add(`n1>${id}`)
    net.cut.add(`${id}>n1`)
  }
  return net
}

// Two changes in flight at once: C0 = {n1,n2,n3} and C2 = {n1..n5} share no majority
// ({n2,n3} vs {n1,n4,n5}), so a commit in C2 can be lost by a leader elected in C0.
function overlapping(bug: boolean) {
  const net = leaderCutFromVotersWithLearners(bug ? { bugs: new Set(['overlapping_conf_changes'] as const) } : {})
  const first = net.node('n1').proposeConfChange({ type: 'promote', id: 'n4' })
  const second = net.node('n1').proposeConfChange({ type: 'promote', id: 'n5' })
  const x = net.node('n1').propose(['x'])
  net.stabilize()
  return { net, first, second, x }
}

t.test('the one-change-at-a-time check guards against commits without a majority', async (t) => {
  const safe = overlapping(false)
  t.ok(safe.first.ok)
  t.same(safe.second, { ok: false, reason: 'change_pending', leader: 'n1' })
  t.notOk(safe.net.appliedData('n1').includes('x'), 'x needs 3 of {n1..n4}: not committed')

  const { net, second, x } = overlapping(true)
  t.ok(second.ok, 'with the check bypassed, the second change goes in too')
  t.ok(net.appliedData('n1').includes('x'), 'n1 committed x with n4 and n5 alone')
  const xi = x.ok ? x.firstIndex : 0
  t.equal(['n1', 'n2', 'n3'].filter((id) => net.node(id).entryAt(xi)?.data === 'x').length, 1, 'yet only 1 of the 3 voters of C0 has it')
  const leader = awaitLeader(net, ['n2', 'n3'])
  t.equal(net.node('n1').currentRole, 'leader', 'n1 still leads too (in C2, with n4 and n5)')
  t.not(net.node(leader).entryAt(xi)?.data, 'x', `${leader} leads a later term without the committed x (Leader Completeness broken)`)
  net.propose(leader, 'y')
  net.heal()
  net.tickAll(5)
  const diverged = divergentApplies(net, ['n1', leader])
  t.ok(diverged.length > 0, `State Machine Safety broken: n1 and ${leader} applied different entries at ${diverged.join(', ')}`)
})

/** Indexes at which two of `among` applied different entries. */
function divergentApplies(net: RaftNet, among: NodeId[]): number[] {
  const seen = new Map<number, string>()
  const bad = new Set<number>()
  for (const id of among) {
    for (const e of net.applied.get(id) ?? []) {
      const key = `${e.term}/${e.kind}/${e.data}`
      const other = seen.get(e.index)
      if (other === undefined) seen.set(e.index, key)
      else if (other !== key) bad.add(e.index)
    }
  }
  return [...bad].sort((a, b) => a - b)
}

t.test('CheckQuorum and ReadIndex count voters only', async (t) => {
  // Two live learners do not keep a leader that lost its voters.
  const net = leaderCutFromVotersWithLearners()
  net.node('n1').readIndex('r1')
  net.tick('n1', 3)
  net.stabilize()
  t.same(net.readStates.get('n1'), [], 'learner acks do not confirm a read')
  net.tick('n1', 20)
  t.equal(net.node('n1').currentRole, 'follower', 'stepped down although the learners answer')
  t.same(net.dropped.get('n1'), ['r1'], 'and the read is refused')
})

t.test('a removed follower gets the log until it holds its removal, then nothing more', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  change(net, 'n1', 'remove', 'n3')
  t.same(members(net, 'n3').voters, ['n1', 'n2'], 'n3 learned of its removal from the log')
  t.same([...net.node('n1').leavingPeers], [], 'and the leader let go of it')
  net.tickAll(1)
  const toN3: Message[] = []
  const deliver = net.deliver.bind(net)
  net.deliver = (m: Message) => {
    if (m.to === 'n3' && m.from === 'n1') toN3.push(m)
    deliver(m)
  }
  proposeMany(net, 'n1', 0, 3)
  net.tickAll(5)
  t.equal(toN3.length, 0, 'nothing more is sent to it')
  t.same(net.appliedData('n2'), expected(3), 'n1 + n2 commit on their own')
})

t.test('a removed follower that is down is given up on after a bounded time', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  net.crash('n3')
  change(net, 'n1', 'remove', 'n3')
  t.same([...net.node('n1').leavingPeers], ['n3'], 'still waiting for n3 to hear of it')
  t.ok(net.node('n1').status().progress.some((p) => p.id === 'n3'))
  net.tickAll(10 * 10)
  t.same([...net.node('n1').leavingPeers], [], 'given up after ten election timeouts')
  t.same(net.node('n1').status().progress.map((p) => p.id), ['n2'])
})
