// The simulated disk: in-order syncs, group commit, and power loss that forgets un-synced writes.
import t from 'tap'
import type { Entry } from '../../src/raft/types.js'
import { SimDisk } from '../../src/sim/disk.js'
import { EventQueue } from '../../src/sim/event-queue.js'

const e = (index: number, term: number): Entry => ({ index, term, kind: 'cmd', data: `d${index}` })

t.test('writes sync in order; later writes wait for the current sync and go as one batch', async (t) => {
  const q = new EventQueue()
  const latencies = [100, 7]
  const d = new SimDisk(q, () => latencies.shift() ?? 1)
  const done: string[] = []
  d.write({ term: 1, vote: 'n1', commit: 0 }, [e(1, 1), e(2, 1)], () => done.push(`w1@${q.now}`))
  d.write(null, [e(3, 1)], () => done.push(`w2@${q.now}`))
  d.write(null, [e(2, 2)], () => done.push(`w3@${q.now}`))
  q.runUntil(1000)
  t.same(done, ['w1@100', 'w2@107', 'w3@107'])
  t.equal(d.syncs, 2)
  const s = d.load()
  t.same(s.hardState, { term: 1, vote: 'n1', commit: 0 })
  t.same(s.entries.map((x) => `${x.index}@${x.term}`), ['1@1', '2@2'], 'a write from a lower index replaces the tail')
})

t.test('a power loss keeps synced data and forgets writes in flight', async (t) => {
  const q = new EventQueue()
  const d = new SimDisk(q, () => 10)
  const done: number[] = []
  d.write({ term: 1, vote: null, commit: 0 }, [e(1, 1)], () => done.push(1))
  q.runUntil(20)
  d.write({ term: 2, vote: 'n2', commit: 1 }, [e(2, 2)], () => done.push(2))
  t.equal(d.inFlight, 1)
  t.equal(d.powerLoss(), 1)
  q.runUntil(100)
  t.same(done, [1], 'the lost write never completes')
  t.same(d.load(), { hardState: { term: 1, vote: null, commit: 0 }, entries: [e(1, 1)], snapshot: null })
  d.write(null, [e(2, 3)], () => done.push(3))
  q.runUntil(200)
  t.same(done, [1, 3], 'the disk works after the restart')
  d.write(null, [], () => done.push(4))
  const before = q.now
  q.runUntil(before)
  t.same(done, [1, 3, 4], 'a write with nothing to store takes no sync time')
})

t.test('compaction and snapshot installs survive a power loss only once synced', async (t) => {
  const q = new EventQueue()
  const d = new SimDisk(q, () => 10)
  d.write({ term: 1, vote: null, commit: 4 }, [e(1, 1), e(2, 1), e(3, 1), e(4, 1)], () => {})
  q.runUntil(20)
  d.compact({ index: 2, term: 1, data: 'img@2' }, () => {})
  q.runUntil(40)
  t.same(d.load().entries, [e(3, 1), e(4, 1)], 'covered entries dropped')
  t.equal(d.lastIndex, 4)
  d.write(null, [e(5, 2)], () => {})
  q.runUntil(60)
  t.same(d.load().entries.map((x) => x.index), [3, 4, 5], 'appends continue after the snapshot')
  d.compact({ index: 1, term: 1, data: 'older' }, () => {})
  q.runUntil(80)
  t.equal(d.snapshot?.data, 'img@2', 'an older snapshot is ignored')

  d.write({ term: 3, vote: null, commit: 9 }, [], () => {}, { index: 9, term: 3, data: 'leader@9' })
  d.powerLoss()
  q.runUntil(100)
  t.equal(d.snapshot?.index, 2, 'an install not yet synced is lost')
  d.write({ term: 3, vote: null, commit: 9 }, [], () => {}, { index: 9, term: 3, data: 'leader@9' })
  q.runUntil(120)
  t.same(d.load(), { hardState: { term: 3, vote: null, commit: 9 }, entries: [], snapshot: { index: 9, term: 3, data: 'leader@9' } })
  d.wipe()
  t.same(d.load(), { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null }, 'wipe forgets everything')
})
