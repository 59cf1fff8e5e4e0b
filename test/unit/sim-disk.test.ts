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
  t.same(d.load(), { hardState: { term: 1, vote: null, commit: 0 }, entries: [e(1, 1)] })
  d.write(null, [e(2, 3)], () => done.push(3))
  q.runUntil(200)
  t.same(done, [1, 3], 'the disk works after the restart')
  d.write(null, [], () => done.push(4))
  const before = q.now
  q.runUntil(before)
  t.same(done, [1, 3, 4], 'a write with nothing to store takes no sync time')
})
