// The bucket table keeps bucket fields in typed-array slabs instead of one
// object per bucket. Nothing observable may change: these tests hold it to a
// plain Map of Bucket objects under random operations, and to decisions,
// state hashes and snapshots pinned from the object-per-bucket implementation.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import t from 'tap'
import type { BucketRows } from '../../src/ratelimit/bucket-rows.js'
import { bucketAt } from '../support/bucket-rows.js'
import { isFullAt, type Bucket } from '../../src/ratelimit/bucket.js'
import { BucketTable } from '../../src/ratelimit/bucket-table.js'
import type { FrozenBuckets } from '../../src/ratelimit/frozen-buckets.js'
import { RateLimitStateMachine, type StateMachineOptions } from '../../src/ratelimit/state-machine.js'
import { mulberry32 } from '../support/prng.js'
import { workload } from '../support/ratelimit-workload.js'
import { asVersion2 } from '../support/snapshot-v2.js'

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16)

function show(entries: Iterable<[string, Bucket]>): string[] {
  return [...entries].map(([k, b]) => `${k}:${b.level}/${b.stamp}/${b.windowMs}/${b.fullAt}`)
}

function rowsOf(rows: BucketRows): [string, Bucket][] {
  return Array.from({ length: rows.count }, (_, i): [string, Bucket] => [rows.key(i), bucketAt(rows, i)])
}

t.test('packed table answers get() and keeps order exactly like a Map of Bucket objects; frozen views keep their moment', async (t) => {
  for (const seed of [1, 2, 3]) {
    const next = mulberry32(seed)
    const rnd = (n: number): number => Math.floor(next() * n)
    const ref = new Map<string, Bucket>()
    const table = new BucketTable()
    let now = 1_000_000
    let maxSize = 0
    let mismatch = ''
    // Up to three views open at once, each with the reference's rows when it was taken.
    const views: { view: FrozenBuckets; want: string; step: number }[] = []
    let viewsChecked = 0
    let rowsPreserved = 0
    for (let step = 0; step < 40_000 && mismatch === ''; step++) {
      if (rnd(500) === 0 && views.length < 3) views.push({ view: table.freeze(), want: show(ref).join(), step })
      if (views.length > 0 && rnd(400) === 0) {
        const { view, want, step: taken } = views.splice(rnd(views.length), 1)[0] as (typeof views)[number]
        rowsPreserved += view.preserved
        if (show(rowsOf(view)).join() !== want) mismatch = `step ${step}: the view taken at step ${taken} changed`
        view.close()
        viewsChecked++
      }
      // Waves: grow past the slab's initial capacity, then let most buckets go full
      // (their slots are freed) and grow again (freed slots are reused).
      const growing = Math.floor(step / 10_000) % 2 === 0
      const op = rnd(10)
      if (op < 6) {
        const key = `k${rnd(5_000)}`
        now += rnd(3)
        const fullAt = growing ? now + 1 + rnd(1e9) : now + rnd(50)
        const bucket: Bucket = { level: rnd(8.64e13), stamp: now + rnd(1e6), windowMs: 1 + rnd(86_400_000), fullAt }
        ref.delete(key)
        if (!isFullAt(bucket, now)) ref.set(key, bucket)
        table.put(key, bucket, now)
      } else if (op < 9) {
        const key = `k${rnd(5_000)}`
        const want = ref.get(key)
        const got = table.get(key)
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatch = `step ${step}: get(${key}) = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`
      } else {
        now += growing ? rnd(5) : rnd(100)
        const count = 1 + rnd(40)
        const oldest = [...ref].slice(0, count)
        for (const [k, b] of oldest) {
          ref.delete(k)
          if (!isFullAt(b, now)) ref.set(k, b)
        }
        table.sweep(now, count)
      }
      maxSize = Math.max(maxSize, ref.size)
      if (mismatch === '' && (step % 997 === 0 || table.size !== ref.size)) {
        const a = show(table.entries())
        const b = show(ref)
        if (a.join() !== b.join()) mismatch = `step ${step}: order or values differ`
        const view = table.freeze()
        if (show(rowsOf(view)).join() !== b.join()) mismatch = `step ${step}: a frozen view differs from the table`
        view.close()
      }
    }
    t.equal(mismatch, '', `seed ${seed}: max size ${maxSize}, ${viewsChecked} views read after later changes, ${rowsPreserved} rows preserved for them`)
    t.ok(viewsChecked > 20 && rowsPreserved > 1000, 'views outlived many changes')
    t.ok(maxSize > 2_000, 'the slab grew past its initial capacity')
  }
})

t.test('a frozen view does not see later changes; closed, it holds nothing and cannot be read', async (t) => {
  const table = new BucketTable()
  table.put('a', { level: 1, stamp: 10, windowMs: 1000, fullAt: 100 }, 10)
  table.put('b', { level: 5, stamp: 10, windowMs: 1000, fullAt: 100 }, 10)
  const view = table.freeze()
  table.put('a', { level: 2, stamp: 20, windowMs: 1000, fullAt: 200 }, 20)
  table.put('b', { level: 0, stamp: 20, windowMs: 1000, fullAt: 20 }, 20) // full: dropped, its slot freed
  table.put('c', { level: 3, stamp: 20, windowMs: 1000, fullAt: 300 }, 20) // reuses b's slot
  t.equal(view.count, 2)
  t.strictSame(rowsOf(view), [
    ['a', { level: 1, stamp: 10, windowMs: 1000, fullAt: 100 }],
    ['b', { level: 5, stamp: 10, windowMs: 1000, fullAt: 100 }],
  ])
  t.equal(view.preserved, 2, 'one saved row per changed slot')
  view.close()
  t.equal(view.preserved, 0)
  t.throws(() => view.key(0), /after close/)
  table.put('a', { level: 4, stamp: 30, windowMs: 1000, fullAt: 400 }, 30)
  t.equal(view.preserved, 0, 'a closed view is handed no more rows')
})

// Pinned by running the same workload through the object-per-bucket table
// (commit fe41bb9): packing must leave decisions, hashes and snapshots alone.
const OPTS: StateMachineOptions = { sweepPerApply: 2, dedupTtlMs: 30_000, dedupMinApplies: 500 }
const PINNED: Record<number, { decisions: string; marks: string[] }> = {
  1: {
    decisions: '6df7fa77ff92a34c',
    marks: ['4999:1671:59205e8678e458b6:ac31a67a0671a50d', '9999:2801:a132d7845e283cf1:c9d10356a8aa5a23', '14999:3515:23f35c59b8692a78:760848eec51dfab4', '19999:4010:897643e2fd3928b6:5d18819355f51991'],
  },
  2: {
    decisions: 'ef513d5e0b17113d',
    marks: ['4999:1718:918ae9c985c8ff4a:431574468098107a', '9999:2845:8c38565fac55d5f6:6994dcf73521f940', '14999:3537:f4432d675cfdbbe9:76b1b876d877e241', '19999:4010:90368df0edb41240:adf3647052ced2a3'],
  },
}

t.test('decisions, state hashes and snapshots equal those of the object-per-bucket table', async (t) => {
  for (const [seed, want] of Object.entries(PINNED)) {
    let m = new RateLimitStateMachine(OPTS)
    const decisions: string[] = []
    const marks: string[] = []
    workload(Number(seed), 20_000).forEach((c, i) => {
      decisions.push(JSON.stringify(m.apply(c)))
      if (i === 9_999) m = RateLimitStateMachine.restore(m.snapshot(), OPTS)
      if (i % 5_000 === 4_999) marks.push(`${i}:${m.size}:${m.stateHash()}:${sha(asVersion2(m.snapshot()))}`)
    })
    t.equal(sha(decisions.join('\n')), want.decisions, `seed ${seed}: decisions`)
    t.same(marks, want.marks, `seed ${seed}: size, state hash and snapshot digest at 5,000-apply marks`)
  }
})

t.test('a snapshot written by the object-per-bucket table loads and re-encodes identically', async (t) => {
  const text = fs.readFileSync(new URL('../fixtures/ratelimit-snapshot-v2.json', import.meta.url), 'utf8').trim()
  const m = RateLimitStateMachine.restore(text, { dedupTtlMs: 30_000, dedupMinApplies: 50 })
  t.equal(asVersion2(m.snapshot()), text, 'the same content, now written as lines')
  t.equal(m.stateHash(), 'a85ff8c87cfdf5c2', 'the hash the old table gave for this state')
  t.equal(m.size, 77)
  t.equal(m.dedupSize, 41)
})
