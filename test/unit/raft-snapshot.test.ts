import t from 'tap'
import type { InstallSnapshot, Message, RaftConfig } from '../../src/raft/types.js'
import { RaftNet } from '../support/raft-net.js'

const ids = ['n1', 'n2', 'n3']

function proposeMany(net: RaftNet, leader: string, from: number, n: number): void {
  for (let i = from; i < from + n; i++) net.propose(leader, `c${i}`)
}

const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`)

/**
 * n1 leads and commits c0..c<before+missed-1>; n3 is down for the last `missed`
 * of them, which n1 then compacts away. n3 is restarted but not yet ticked: it
 * can catch up only through a snapshot.
 */
function n3BehindLeaderSnapshot(before: number, missed: number, overrides: Partial<RaftConfig> = {}): RaftNet {
  const net = new RaftNet(ids, overrides)
  net.elect('n1')
  proposeMany(net, 'n1', 0, before)
  net.crash('n3')
  proposeMany(net, 'n1', before, missed)
  net.compact('n1')
  net.start('n3')
  return net
}

t.test('compaction drops applied entries and a restart resumes from the snapshot plus the tail', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 20)
  const at = net.compact('n2')
  const st = net.node('n2').status()
  t.equal(st.snapshotIndex, at)
  t.equal(st.firstIndex, at + 1)
  t.equal(net.node('n2').entryAt(at), undefined, 'compacted entry is gone')
  t.equal(net.node('n2').termAt(at), 1, 'its term is kept')

  proposeMany(net, 'n1', 20, 5)
  net.crash('n2')
  net.start('n2')
  net.tickAll(3)
  t.same(net.appliedData('n2'), expected(25), 'snapshot + replayed tail = everything, in order')
  t.equal(net.node('n2').status().applied, net.node('n1').status().applied)
})

t.test('compact refuses what the state machine has not applied', async (t) => {
  const net = new RaftNet(['n1'])
  net.elect('n1')
  proposeMany(net, 'n1', 0, 3)
  const core = net.node('n1')
  const applied = core.status().applied
  t.equal(core.compact(applied + 1), false, 'past applied: refused')
  t.equal(core.status().snapshotIndex, 0)
  t.equal(core.compact(applied), true)
  t.equal(core.compact(applied), false, 'nothing left to drop')
})

t.test('a follower behind the leader\'s snapshot catches up by InstallSnapshot and replicates after it', async (t) => {
  const net = n3BehindLeaderSnapshot(5, 30)
  net.tickAll(5)
  t.equal(net.installs.get('n3'), 1, 'exactly one snapshot installed')
  proposeMany(net, 'n1', 35, 5)
  net.tickAll(2)
  t.same(net.appliedData('n3'), expected(40))
  const pr = net.node('n1').status().progress.find((p) => p.id === 'n3')
  t.equal(pr?.state, 'replicate', 'back to normal replication')
  t.equal(pr?.match, net.node('n1').status().lastIndex)

  // After a restart n3 rebuilds from its stored snapshot, not from the leader.
  net.crash('n3')
  net.start('n3')
  net.tickAll(3)
  t.same(net.appliedData('n3'), expected(40))
  t.equal(net.installs.get('n3'), 1, 'no second transfer')
})

t.test('a wiped follower rejoins through a snapshot', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 12)
  net.compact('n1')
  net.wipeAndRejoin('n2')
  net.tickAll(5)
  t.equal(net.installs.get('n2'), 1)
  t.same(net.appliedData('n2'), expected(12))
})

/**
 * c3 is committed by n1 and n2 only (n3 fell behind); then all three are down,
 * and n2's disk holds just its first `kept` entries (0: wiped). Nothing started yet.
 */
function c3OnlyOnLostDisks(kept: number): RaftNet {
  const net = new RaftNet(ids, { preVote: false, checkQuorum: false })
  net.elect('n1')
  proposeMany(net, 'n1', 0, 3)
  net.crash('n3')
  proposeMany(net, 'n1', 3, 1)
  net.crash('n1')
  net.crash('n2')
  const entries = (net.disks.get('n2')?.entries ?? []).slice(0, kept)
  net.disks.set('n2', { hardState: { term: 0, vote: null, commit: 0 }, entries, snapshot: null })
  return net
}

t.test('a wiped node does not vote until it has caught up (its empty log must not elect a stale leader)', async (t) => {
  for (const rejoin of [false, true]) {
    // n2 loses its disk, n1 dies: n3 (missing c3) campaigns and asks the empty n2.
    const net = c3OnlyOnLostDisks(0)
    net.start('n2', undefined, { rejoin })
    net.start('n3')
    for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll(1)
    const leader = net.leaders()[0]
    if (rejoin) {
      t.equal(leader, undefined, 'with rejoin: no leader without the data (n1 must come back)')
      net.start('n1')
      for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll(1)
      net.tickAll(3)
      t.same(net.appliedData(net.leaders()[0] ?? 'n1'), expected(4), 'committed c3 survives')
    } else {
      t.equal(leader, 'n3', 'without rejoin the wiped node elects n3, which lacks committed c3 (the bug rejoin guards against)')
      t.same(net.appliedData('n3').includes('c3'), false)
    }
  }
})

t.test('a wiped node that crashed part-way through catching up still does not vote when restarted', async (t) => {
  // n2 lost its disk, and before it crashed again it had got back only the first entries.
  const net = c3OnlyOnLostDisks(2)
  // Its driver kept the rejoin marker: the node has not caught up since the loss.
  net.start('n2', undefined, { rejoin: true })
  net.start('n3')
  for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll(1)
  t.equal(net.leaders()[0], undefined, 'no leader elected by a half-restored log')
  net.start('n1')
  for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll(1)
  net.tickAll(3)
  t.same(net.appliedData(net.leaders()[0] ?? 'n1'), expected(4), 'committed c3 survives')
  t.equal(net.node('n2').rejoining, false, 'and n2 has caught up since')
})

t.test('a lost snapshot is sent again: at once when the driver reports it, else after the timeout', async (t) => {
  for (const report of [true, false]) {
    const net = n3BehindLeaderSnapshot(10, 10, { snapshotTimeoutTicks: 30 })
    // Drop every snapshot message once.
    let dropped = 0
    const deliver = net.deliver.bind(net)
    net.deliver = (m: Message) => {
      if (m.type === 'snapshot' && dropped === 0) {
        dropped++
        if (report) net.node('n1').reportSnapshotFailed(m.to)
        return
      }
      deliver(m)
    }
    let ticks = 0
    while (net.installs.get('n3') === undefined && ticks < 200) {
      net.tickAll(1)
      ticks++
    }
    t.equal(dropped, 1, `${report ? 'reported' : 'silent'} loss: the first transfer was dropped`)
    t.equal(net.installs.get('n3'), 1, 'a second transfer got through')
    if (report) t.ok(ticks < 10, `resent within a few heartbeats (${ticks} ticks)`)
    else t.ok(ticks >= 30, `resent only after the timeout (${ticks} ticks)`)
    t.same(net.appliedData('n3'), expected(20))
  }
})

t.test('a snapshot the follower already covers is acknowledged without restoring anything', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 6)
  const st = net.node('n2').status()
  const stale: InstallSnapshot = { type: 'snapshot', from: 'n1', to: 'n2', term: st.term, index: st.commit - 2, snapTerm: 1, data: '[]' }
  net.node('n2').step(stale)
  const rd = net.node('n2').ready()
  t.equal(rd.snapshot, null)
  const ack = rd.persistedMessages.find((m) => m.type === 'append_resp')
  t.same(ack?.type === 'append_resp' ? [ack.reject, ack.index] : null, [false, st.commit])
  t.same(net.appliedData('n2'), expected(6))
})

t.test('a follower whose log already holds the snapshot\'s last entry only advances its commit', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 4)
  // n2 gets the next two entries but nothing commits them: n1 hears no acks.
  net.cut.add('n2>n1')
  net.cut.add('n3>n1')
  net.node('n1').propose(['a', 'b'])
  net.stabilize()
  net.heal()
  const n2 = net.node('n2')
  const last = n2.status().lastIndex
  t.ok(n2.status().commit < last, 'n2 has uncommitted entries')
  n2.step({ type: 'snapshot', from: 'n1', to: 'n2', term: n2.currentTerm, index: last, snapTerm: n2.termAt(last) ?? -1, data: 'ignored' })
  const rd = n2.ready()
  t.equal(rd.snapshot, null, 'no restore')
  t.equal(n2.status().commit, last)
  t.equal(n2.status().snapshotIndex, 0, 'its own log is kept')
})

t.test('a snapshot from a deposed leader is refused with the newer term', async (t) => {
  const net = new RaftNet(ids)
  net.elect('n1')
  proposeMany(net, 'n1', 0, 3)
  const n2 = net.node('n2')
  n2.step({ type: 'snapshot', from: 'n3', to: 'n2', term: n2.currentTerm - 1, index: 100, snapTerm: 1, data: '[]' })
  const rd = n2.ready()
  t.equal(rd.snapshot, null)
  t.equal(n2.status().commit < 100, true)
  const reply = rd.messages.find((m) => m.to === 'n3')
  t.same(reply?.type === 'append_resp' ? [reply.reject, reply.term] : null, [true, n2.currentTerm])
})

t.test('a follower that installed a snapshot takes part in elections on the snapshot\'s last term and index', async (t) => {
  const net = n3BehindLeaderSnapshot(5, 5)
  net.tickAll(4)
  const st3 = net.node('n3').status()
  t.equal(st3.snapshotIndex, st3.lastIndex, 'n3 holds only the snapshot')
  // The old leader goes away; n3 (snapshot only) can still win: its last entry is as up to date as n2's.
  net.crash('n1')
  for (let i = 0; i < 100 && net.leaders().length === 0; i++) net.tickAll(1)
  const leader = net.leaders()[0] ?? 'none'
  t.not(leader, 'none', 'a new leader was elected with n3\'s vote or by n3')
  proposeMany(net, leader, 10, 2)
  net.tickAll(2)
  t.same(net.appliedData('n2'), expected(12))
  t.same(net.appliedData('n3'), expected(12))
})
