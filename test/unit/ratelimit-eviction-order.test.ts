// The bucket table's sweep and the dedup table's expiry keep a Map iterator
// across calls instead of iterating from the front each time. Eviction order
// decides every replica's future state, so it must be exactly what the
// original restart-from-the-front code produced. The reference copies below
// are that original code; both sides get the same random operations and must
// hold the same entries in the same order after every step, including after
// rebuilding from a saved image (snapshot/restore).
import t, { type Test } from 'tap'
import { consume, isFullAt, type Bucket } from '../../src/ratelimit/bucket.js'
import { bucketRowsOf } from '../support/bucket-rows.js'
import { BucketTable } from '../../src/ratelimit/bucket-table.js'
import type { IncrementCommand } from '../../src/ratelimit/command.js'
import type { Decision } from '../../src/ratelimit/decision.js'
import { dedupRowsOf } from '../../src/ratelimit/dedup-columns.js'
import { DedupTable, type DedupEntry } from '../../src/ratelimit/dedup-table.js'
import type { Policy } from '../../src/ratelimit/policy.js'
import { encodeSnapshot } from '../../src/ratelimit/snapshot.js'
import { RateLimitStateMachine } from '../../src/ratelimit/state-machine.js'
import { mulberry32 } from '../support/prng.js'

// ---- reference copies of the original algorithms ----------------------------

class RefBucketTable {
  readonly map = new Map<string, Bucket>()
  put(key: string, bucket: Bucket, now: number): void {
    this.map.delete(key)
    if (!isFullAt(bucket, now)) this.map.set(key, bucket)
  }
  sweep(now: number, count: number): void {
    const oldest: [string, Bucket][] = []
    for (const entry of this.map) {
      if (oldest.length >= count) break
      oldest.push(entry)
    }
    for (const [key, bucket] of oldest) this.put(key, bucket, now)
  }
}

class RefDedupTable {
  readonly map = new Map<string, DedupEntry>()
  constructor(readonly ttlMs: number) {}
  expire(now: number): void {
    for (const [id, entry] of this.map) {
      if (now - entry.stamp <= this.ttlMs) break
      this.map.delete(id)
    }
  }
  get(key: string, requestId: string): Decision | undefined {
    return this.map.get(`${key.length}:${key}${requestId}`)?.decision
  }
  remember(entry: DedupEntry): void {
    const id = `${entry.key.length}:${entry.key}${entry.requestId}`
    if (!this.map.has(id)) this.map.set(id, entry)
  }
}

// ---- helpers ----------------------------------------------------------------

type Rnd = (n: number) => number

function rndOf(seed: number): Rnd {
  const next = mulberry32(seed)
  return (n) => Math.floor(next() * n)
}

function sameBucket(a: Bucket, b: Bucket): boolean {
  return a.level === b.level && a.stamp === b.stamp && a.windowMs === b.windowMs && a.fullAt === b.fullAt
}

/** Lock-step comparison: same keys, same bucket values (the table stores fields, not objects), same order. */
function sameEntries(a: Iterator<[string, Bucket]>, b: Iterator<[string, Bucket]>): boolean {
  for (;;) {
    const x = a.next()
    const y = b.next()
    if (x.done === true || y.done === true) return x.done === y.done
    if (x.value[0] !== y.value[0] || !sameBucket(x.value[1], y.value[1])) return false
  }
}

function bucketOrder(entries: Iterable<[string, Bucket]>): string {
  const out: string[] = []
  for (const [k, b] of entries) out.push(`${k}@${b.fullAt}`)
  return out.join(',')
}

function dedupOrder(entries: Iterable<DedupEntry>): string {
  const out: string[] = []
  for (const e of entries) out.push(`${e.key}/${e.requestId}@${e.stamp}`)
  return out.join(',')
}

const DECISION: Decision = {
  admitted: true,
  remaining: 0,
  retryAfterMs: 0,
  resetMs: 0,
  policy: { refill: 1, windowMs: 1000, burst: 1 },
  duplicate: false,
}

/**
 * Random puts and sweeps over `keyCount` keys. Phases change how likely a
 * bucket is to be full when swept, so the table grows and shrinks (V8 rehashes
 * the Map while the cursor is live) and holes pile up at its front.
 */
function runBucketTable(t: Test, seed: number, steps: number, keyCount: number, restoreOdds: number): void {
  const rnd = rndOf(seed)
  const ref = new RefBucketTable()
  let table = new BucketTable()
  let now = 1_000
  let fullChance = 50
  let restores = 0
  let maxSize = 0
  for (let step = 0; step < steps; step++) {
    if (step % 500 === 0) fullChance = [0, 5, 50, 95, 100][rnd(5)] as number
    const op = rnd(restoreOdds) === 0 ? -1 : rnd(100)
    let what: string
    if (op < 0) {
      // Snapshot/restore: a new table rebuilt in saved order; the reference just keeps its Map.
      const saved = [...table.entries()]
      table = new BucketTable()
      for (const [k, b] of saved) table.restore(k, b)
      restores++
      what = 'restore'
    } else if (op < 55) {
      const key = `k${rnd(keyCount)}`
      now += rnd(3)
      // fullAt: soon (dropped by a later sweep) or far enough ahead for the table to fill up.
      const fullAt = rnd(100) < fullChance ? now + rnd(40) : now + 1 + rnd(keyCount * 20)
      const bucket: Bucket = { level: rnd(1000), stamp: now, windowMs: 1000, fullAt: rnd(10) === 0 ? now - rnd(5) : fullAt }
      ref.put(key, bucket, now)
      table.put(key, bucket, now)
      what = `put ${key}`
    } else {
      now += rnd(50)
      const count = [0, 1, 2, 2, 2, 3, 5, 17][rnd(8)] as number
      ref.sweep(now, count)
      table.sweep(now, count)
      what = `sweep ${count}`
    }
    maxSize = Math.max(maxSize, ref.map.size)
    if (table.size !== ref.map.size || !sameEntries(table.entries(), ref.map.entries())) {
      t.fail(`seed ${seed}: order differs after step ${step} (${what})`, {
        got: bucketOrder(table.entries()).slice(0, 400),
        want: bucketOrder(ref.map.entries()).slice(0, 400),
      })
      return
    }
  }
  t.pass(`seed ${seed}: ${steps} steps over ${keyCount} keys, max size ${maxSize}, ${restores} restores: same order throughout`)
}

function runDedupTable(t: Test, seed: number, steps: number, keyCount: number, restoreOdds: number): void {
  const rnd = rndOf(seed)
  const ttl = 1 + rnd(500)
  const ref = new RefDedupTable(ttl)
  let table = new DedupTable(ttl)
  let now = 10_000
  let restores = 0
  for (let step = 0; step < steps; step++) {
    const op = rnd(restoreOdds) === 0 ? 100 : rnd(100)
    let what: string
    if (op < 60) {
      // Stamps never decrease; duplicate ids are common and must be ignored.
      now += rnd(100) < 80 ? 0 : rnd(30)
      const entry: DedupEntry = { key: `k${rnd(keyCount)}`, requestId: `r${rnd(keyCount)}`, stamp: now, seq: step, decision: DECISION }
      ref.remember(entry)
      table.remember(entry)
      what = `remember ${entry.key}/${entry.requestId}`
    } else if (op < 100) {
      // Sometimes far ahead (expires everything), sometimes the same time twice.
      now += [0, 0, 1, 7, 40, 200, ttl * 3][rnd(7)] as number
      ref.expire(now)
      // minApplies is 0 here: only time decides, as in the reference.
      table.expire(now, step)
      what = `expire ${now}`
    } else {
      const saved = [...table.entries()]
      table = new DedupTable(ttl)
      for (const e of saved) table.remember(e)
      restores++
      what = 'restore'
    }
    if (table.size !== ref.map.size || dedupOrder(table.entries()) !== dedupOrder(ref.map.values())) {
      t.fail(`seed ${seed}: dedup order differs after step ${step} (${what})`, {
        got: dedupOrder(table.entries()).slice(0, 400),
        want: dedupOrder(ref.map.values()).slice(0, 400),
      })
      return
    }
  }
  t.pass(`seed ${seed}: ${steps} dedup steps, ttl ${ttl}, ${restores} restores: same order throughout`)
}

t.test('bucket table: cursor sweep evicts in exactly the original order', async (t) => {
  for (let seed = 1; seed <= 40; seed++) runBucketTable(t, seed, 4_000, 1 + (seed % 13) * 5, 30)
  // Bigger tables, rarely restored: V8 grows, compacts and shrinks the Map under a long-lived cursor.
  for (let seed = 100; seed < 103; seed++) runBucketTable(t, seed, 30_000, 3_000, 10_000)
})

t.test('dedup table: cursor expiry drops in exactly the original order', async (t) => {
  for (let seed = 1; seed <= 40; seed++) runDedupTable(t, seed, 4_000, 1 + (seed % 11) * 4, 30)
  for (let seed = 200; seed < 203; seed++) runDedupTable(t, seed, 30_000, 2_000, 10_000)
})

// ---- whole machine: the original apply() built from the reference tables ------

class RefMachine {
  readonly buckets = new RefBucketTable()
  readonly dedup: RefDedupTable
  lastStamp = 0
  seq = 0
  constructor(ttl: number, readonly sweepPerApply: number) {
    this.dedup = new RefDedupTable(ttl)
  }
  apply(cmd: IncrementCommand): void {
    const now = Math.max(cmd.stamp, this.lastStamp)
    this.lastStamp = now
    const seq = this.seq + 1
    this.dedup.expire(now)
    this.buckets.sweep(now, this.sweepPerApply)
    if (cmd.requestId !== undefined && this.dedup.get(cmd.key, cmd.requestId) !== undefined) return
    this.seq = seq
    const result = consume(this.buckets.map.get(cmd.key), cmd.policy, cmd.cost, now)
    this.buckets.put(cmd.key, result.bucket, now)
    if (cmd.requestId !== undefined) {
      const { admitted, remaining, retryAfterMs, resetMs } = result
      const decision: Decision = { admitted, remaining, retryAfterMs, resetMs, policy: { ...cmd.policy }, duplicate: false }
      this.dedup.remember({ key: cmd.key, requestId: cmd.requestId, stamp: now, seq, decision })
    }
  }
  snapshot(): string {
    return encodeSnapshot({ lastStamp: this.lastStamp, seq: this.seq, buckets: bucketRowsOf([...this.buckets.map.entries()]), dedup: dedupRowsOf([...this.dedup.map.values()]) })
  }
}

t.test('state machine: snapshot equals the original algorithm after every apply, across restores', async (t) => {
  const policy: Policy = { refill: 2, windowMs: 1000, burst: 4 }
  for (let seed = 1; seed <= 8; seed++) {
    const rnd = rndOf(seed * 7919)
    const ttl = 200 + rnd(2000)
    const sweep = [1, 2, 2, 3][rnd(4)] as number
    // The reference expires by time only, as the original did: no minimum age in applies.
    const opts = { dedupTtlMs: ttl, sweepPerApply: sweep, dedupMinApplies: 0 }
    const ref = new RefMachine(ttl, sweep)
    let machine = new RateLimitStateMachine(opts)
    let stamp = 1_700_000_000_000
    let restores = 0
    let bad = -1
    for (let i = 0; i < 4_000 && bad < 0; i++) {
      // Mostly forward in time, sometimes a leader clock behind.
      stamp = rnd(25) === 0 ? stamp - rnd(3000) : stamp + rnd(rnd(4) === 0 ? 900 : 60)
      const key = `c${rnd(rnd(2) === 0 ? 20 : 400)}`
      const base: IncrementCommand = { key, cost: 1 + rnd(2), stamp, policy }
      const cmd = rnd(3) === 0 ? { ...base, requestId: `q${rnd(50)}` } : base
      ref.apply(cmd)
      machine.apply(cmd)
      if (rnd(200) === 0) {
        machine = RateLimitStateMachine.restore(machine.snapshot(), opts)
        restores++
      }
      if (machine.snapshot() !== ref.snapshot()) bad = i
    }
    t.equal(bad, -1, `seed ${seed} (sweep ${sweep}, ttl ${ttl}, ${restores} restores): first differing apply`)
  }
})
