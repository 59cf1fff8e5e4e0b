import t from 'tap'
import type { IncrementCommand } from '../../src/ratelimit/command.js'
import type { BatchItem } from '../../src/ratelimit/command-batch.js'
import type { Decision } from '../../src/ratelimit/decision.js'
import type { Policy } from '../../src/ratelimit/policy.js'
import { RateLimitStateMachine, type StateMachineOptions } from '../../src/ratelimit/state-machine.js'

const T0 = 1_700_000_000_000
const policy: Policy = { refill: 3, windowMs: 1_000, burst: 5 }

/** xorshift32: a tiny seeded PRNG so every run sees the same "random" commands. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1
  return (n) => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s % n
  }
}

interface GenOptions {
  readonly count: number
  readonly keys?: number
  readonly policy?: Policy
}

/** Commands as several leaders might stamp them: mostly forward, sometimes a clock behind. */
function randomCommands(seed: number, opts: GenOptions): IncrementCommand[] {
  const rnd = prng(seed)
  const p = opts.policy ?? policy
  const keys = ['k0', 'k1', 'k2', 'ключ-😀', 'k4', 'k5', 'k6', 'k7'].slice(0, opts.keys ?? 8)
  const out: IncrementCommand[] = []
  let stamp = T0
  for (let i = 0; i < opts.count; i++) {
    stamp = rnd(20) === 0 ? stamp - rnd(5_000) : stamp + rnd(400)
    const key = keys[rnd(keys.length)] ?? 'k0'
    const cost = 1 + rnd(Math.min(3, p.burst))
    const cmd: IncrementCommand = { key, cost, stamp, policy: p }
    out.push(rnd(3) === 0 ? { ...cmd, requestId: `r${rnd(20)}` } : cmd)
  }
  return out
}

function feed(m: RateLimitStateMachine, cmds: readonly IncrementCommand[]): Decision[] {
  return cmds.map((c) => m.apply(c))
}

t.test('same commands give the same decisions and state hash; different ones differ', async (t) => {
  const cmds = randomCommands(7, { count: 3000 })
  const a = new RateLimitStateMachine()
  const b = new RateLimitStateMachine()
  const hashMismatch: number[] = []
  const decisionMismatch: number[] = []
  cmds.forEach((c, i) => {
    if (JSON.stringify(a.apply(c)) !== JSON.stringify(b.apply(c))) decisionMismatch.push(i)
    if (a.stateHash() !== b.stateHash()) hashMismatch.push(i)
  })
  t.same(decisionMismatch, [])
  t.same(hashMismatch, [])
  t.match(a.stateHash(), /^[0-9a-f]{16}$/)
  t.equal(a.snapshot(), b.snapshot())

  const other = new RateLimitStateMachine()
  feed(other, randomCommands(8, { count: 3000 }))
  t.not(other.stateHash(), a.stateHash(), 'another sequence ends in another state')

  // One changed command: the hash must differ right after it.
  const c = new RateLimitStateMachine()
  const d = new RateLimitStateMachine()
  const cut = 1500
  feed(c, cmds.slice(0, cut))
  feed(d, cmds.slice(0, cut))
  const changed = cmds[cut]
  if (changed === undefined) throw new Error('sequence too short')
  c.apply(changed)
  d.apply({ ...changed, key: 'someone-else' })
  t.not(c.stateHash(), d.stateHash())
})

t.test('the hash notices any difference in key, level, stamp or dedup table', async (t) => {
  const hashAfter = (...cmds: IncrementCommand[]): string => {
    const m = new RateLimitStateMachine()
    feed(m, cmds)
    return m.stateHash()
  }
  const base: IncrementCommand = { key: 'a', cost: 1, stamp: T0, policy }
  const h = hashAfter(base)
  t.equal(hashAfter(base), h)
  t.not(hashAfter({ ...base, key: 'b' }), h, 'key')
  t.not(hashAfter({ ...base, cost: 2 }), h, 'level')
  t.not(hashAfter({ ...base, stamp: T0 + 1 }), h, 'stamp')
  t.not(hashAfter({ ...base, requestId: 'r' }), h, 'dedup entry')
  // Fields that apply always changes together, varied one at a time through crafted snapshots.
  const image = (over: { lastStamp?: number; bucket?: unknown[] }): string =>
    JSON.stringify({ v: 1, lastStamp: over.lastStamp ?? T0 + 5, buckets: [over.bucket ?? ['a', 10, T0, 1000, T0 + 9]], dedup: [] })
  const hashOf = (s: string): string => RateLimitStateMachine.restore(s).stateHash()
  const ref = hashOf(image({}))
  t.not(hashOf(image({ lastStamp: T0 + 6 })), ref, 'lastStamp alone')
  t.not(hashOf(image({ bucket: ['a', 10, T0 + 1, 1000, T0 + 9] })), ref, 'bucket stamp alone')
  t.not(hashOf(image({ bucket: ['a', 11, T0, 1000, T0 + 9] })), ref, 'bucket level alone')
  t.not(hashOf(image({ bucket: ['a', 10, T0, 999, T0 + 9] })), ref, 'bucket window alone')
  t.not(hashOf(image({ bucket: ['a', 10, T0, 1000, T0 + 8] })), ref, 'bucket fullAt alone')
  // The hash states what is held, not the eviction queue's order.
  t.equal(hashAfter(base, { ...base, key: 'b' }), hashAfter({ ...base, key: 'b' }, base))
})

t.test('time never goes backwards across leaders', async (t) => {
  const m = new RateLimitStateMachine()
  t.equal(m.lastStamp, 0)
  const drained = m.apply({ key: 'a', cost: 5, stamp: T0 + 10_000, policy })
  t.equal(drained.admitted, true)
  t.equal(drained.remaining, 0)
  t.equal(m.lastStamp, T0 + 10_000)
  // A new leader whose clock is 10 s behind: no refill, no negative level.
  const behind = m.apply({ key: 'a', cost: 1, stamp: T0, policy })
  t.equal(behind.admitted, false)
  t.equal(behind.remaining, 0)
  t.equal(behind.retryAfterMs, 334, 'ceil(1000 units / 3 per ms), measured from the later stamp')
  t.equal(m.lastStamp, T0 + 10_000, 'lastStamp does not move back')
  // Another key is also judged at the effective (later) time.
  t.equal(m.apply({ key: 'b', cost: 1, stamp: T0 + 5, policy }).resetMs, 334)
  t.equal(m.apply({ key: 'a', cost: 1, stamp: T0 + 10_333, policy }).admitted, false)
  t.equal(m.apply({ key: 'a', cost: 1, stamp: T0 + 10_334, policy }).admitted, true)
  // A +1h jump refills to capacity, not beyond.
  const later = m.apply({ key: 'a', cost: 1, stamp: T0 + 3_600_000, policy })
  t.equal(later.remaining, 4)
})

/** Admitted cost over any interval of log time is at most burst + refill * elapsed / window. */
function overAdmissions(cmds: readonly IncrementCommand[], decisions: readonly Decision[], p: Policy): string[] {
  const byKey = new Map<string, { at: number; cost: number }[]>()
  let now = 0
  cmds.forEach((c, i) => {
    now = Math.max(now, c.stamp)
    const d = decisions[i]
    if (d === undefined || !d.admitted || d.duplicate) return
    const list = byKey.get(c.key) ?? []
    list.push({ at: now, cost: c.cost })
    byKey.set(c.key, list)
  })
  const problems: string[] = []
  for (const [key, list] of byKey) {
    for (let i = 0; i < list.length; i++) {
      let spent = 0
      for (let j = i; j < list.length; j++) {
        const from = list[i]
        const to = list[j]
        if (from === undefined || to === undefined) continue
        spent += to.cost
        // In units (x windowMs) so the comparison is exact.
        if (spent * p.windowMs > p.burst * p.windowMs + p.refill * (to.at - from.at)) {
          problems.push(`${key}: ${spent} tokens in [${from.at}, ${to.at}]`)
        }
      }
    }
  }
  return problems
}

t.test('no over-admission over any interval (random commands)', async (t) => {
  const policies: Policy[] = [policy, { refill: 5, windowMs: 60_000, burst: 5 }, { refill: 7, windowMs: 999, burst: 3 }]
  for (const [n, p] of policies.entries()) {
    for (const seed of [1, 2, 3]) {
      const cmds = randomCommands(seed * 31 + n, { count: 1500, keys: 3, policy: p })
      const decisions = feed(new RateLimitStateMachine(), cmds)
      const admitted = decisions.filter((d) => d.admitted && !d.duplicate).length
      const rejected = decisions.filter((d) => !d.admitted && !d.duplicate).length
      t.ok(admitted > 0 && rejected > 0, `policy ${n} seed ${seed}: both outcomes occur (${admitted}/${rejected})`)
      t.same(overAdmissions(cmds, decisions, p), [], `policy ${n} seed ${seed}`)
    }
  }
})

t.test('a rejection says exactly when the same request would pass', async (t) => {
  const cmds = randomCommands(99, { count: 400, keys: 2 })
  const m = new RateLimitStateMachine()
  let checked = 0
  for (const c of cmds) {
    const plain: IncrementCommand = { key: c.key, cost: c.cost, stamp: c.stamp, policy: c.policy }
    const d = m.apply(plain)
    if (!d.admitted && checked < 30) {
      const at = m.lastStamp + d.retryAfterMs
      const early = RateLimitStateMachine.restore(m.snapshot()).apply({ ...plain, stamp: at - 1 })
      const onTime = RateLimitStateMachine.restore(m.snapshot()).apply({ ...plain, stamp: at })
      t.equal(early.admitted, false)
      t.equal(onTime.admitted, true)
      checked++
    }
  }
  t.equal(checked, 30)
})

t.test('a retried request id returns the first decision and spends nothing', async (t) => {
  const m = new RateLimitStateMachine()
  const first = m.apply({ key: 'a', cost: 2, stamp: T0, policy, requestId: 'r1' })
  t.equal(first.admitted, true)
  t.equal(first.remaining, 3)
  t.equal(first.duplicate, false)
  const hash = m.stateHash()
  const retry = m.apply({ key: 'a', cost: 2, stamp: T0, policy, requestId: 'r1' })
  t.same(retry, { ...first, duplicate: true })
  t.equal(m.stateHash(), hash, 'nothing changed')
  t.equal(m.check('a', T0, policy).remaining, 3, 'nothing spent')
  // Even a retry carrying another cost gets the first answer.
  t.same(m.apply({ key: 'a', cost: 5, stamp: T0 + 10, policy, requestId: 'r1' }), { ...first, duplicate: true })
  // The same id on another key is another request.
  t.equal(m.apply({ key: 'b', cost: 1, stamp: T0 + 10, policy, requestId: 'r1' }).duplicate, false)
  // A rejection is remembered too: the retry is not re-judged.
  const rejected = m.apply({ key: 'a', cost: 5, stamp: T0 + 20, policy, requestId: 'r2' })
  t.equal(rejected.admitted, false)
  const retried = m.apply({ key: 'a', cost: 5, stamp: T0 + 60_000, policy, requestId: 'r2' })
  t.same(retried, { ...rejected, duplicate: true })
  // Keys and ids that would collide if simply concatenated stay apart.
  const n = new RateLimitStateMachine()
  n.apply({ key: 'ab', cost: 1, stamp: T0, policy, requestId: 'c' })
  t.equal(n.apply({ key: 'a', cost: 1, stamp: T0, policy, requestId: 'bc' }).duplicate, false)
})

t.test('dedup entries expire by log time, the same way everywhere', async (t) => {
  // Time alone decides here (no minimum age in applies).
  const m = new RateLimitStateMachine({ dedupTtlMs: 1_000, dedupMinApplies: 0 })
  const first = m.apply({ key: 'a', cost: 1, stamp: T0, policy, requestId: 'r' })
  m.apply({ key: 'a', cost: 1, stamp: T0 + 500, policy, requestId: 's' })
  t.equal(m.dedupSize, 2)
  t.same(m.apply({ key: 'a', cost: 1, stamp: T0 + 1_000, policy, requestId: 'r' }), { ...first, duplicate: true },
    'remembered for the whole TTL')
  const afterTtl = m.apply({ key: 'a', cost: 1, stamp: T0 + 1_001, policy, requestId: 'r' })
  t.equal(afterTtl.duplicate, false, 'forgotten once older than the TTL')
  t.equal(m.dedupSize, 2, '"r" expired and was remembered anew; "s" is still young')
  m.apply({ key: 'z', cost: 1, stamp: T0 + 5_000, policy })
  t.equal(m.dedupSize, 0)
  // A clock behind does not resurrect or keep entries: expiry uses the effective time.
  m.apply({ key: 'a', cost: 1, stamp: T0, policy, requestId: 'late' })
  t.equal(m.dedupSize, 1)
  t.throws(() => new RateLimitStateMachine({ dedupTtlMs: -1 }))
})

t.test('a leader clock jump does not expire request ids: they also outlive a number of applies', async (t) => {
  const ttl = 10 * 60 * 1000
  for (const minApplies of [0, 50]) {
    const m = new RateLimitStateMachine({ dedupTtlMs: ttl, dedupMinApplies: minApplies })
    const first = m.apply({ key: 'a', cost: 1, stamp: T0, policy, requestId: 'retry-me' })
    // The leader's clock jumps an hour ahead; a few other requests commit.
    for (let i = 0; i < 10; i++) m.apply({ key: `o${i}`, cost: 1, stamp: T0 + 3_600_000 + i, policy })
    const retry = m.apply({ key: 'a', cost: 1, stamp: T0 + 3_600_100, policy, requestId: 'retry-me' })
    if (minApplies === 0) {
      t.equal(retry.duplicate, false, 'time-only expiry (the old rule): the retry spends a second token')
    } else {
      t.same(retry, { ...first, duplicate: true }, 'with a minimum age in applies the retry gets the first answer')
      // Once both the TTL and the applies have passed, the id is forgotten.
      for (let i = 0; i < 50; i++) m.apply({ key: `p${i}`, cost: 1, stamp: T0 + 3_700_000 + i, policy })
      t.equal(m.apply({ key: 'a', cost: 1, stamp: T0 + 3_800_000, policy, requestId: 'retry-me' }).duplicate, false, 'expired after both')
    }
  }
  t.throws(() => new RateLimitStateMachine({ dedupMinApplies: -1 }))
})

t.test('eviction keeps memory bounded by active keys and never changes a decision', async (t) => {
  const slow: Policy = { refill: 1, windowMs: 1_000, burst: 5 }
  const m = new RateLimitStateMachine()
  for (let i = 0; i < 1000; i++) m.apply({ key: `idle-${i}`, cost: 1, stamp: T0, policy: slow })
  t.equal(m.size, 1000, 'each touched key holds a non-full bucket')
  // A key used late is not full yet and must survive the sweep.
  m.apply({ key: 'recent', cost: 5, stamp: T0 + 900, policy: slow })
  for (let i = 0; i < 600; i++) m.apply({ key: 'hot', cost: 1, stamp: T0 + 2_000 + i, policy: slow })
  t.equal(m.size, 2, 'all idle keys refilled to capacity and were evicted')
  t.equal(m.check('recent', T0 + 2_600, slow).remaining, 1, 'the non-full bucket kept its level')
  t.equal(m.check('idle-7', T0 + 2_600, slow).remaining, 5, 'an evicted bucket reads as full')

  // Sweeping or not, every decision is the same (full == absent).
  const cmds = randomCommands(5, { count: 3000, keys: 8 })
  const sweeping = new RateLimitStateMachine()
  const keeping = new RateLimitStateMachine({ sweepPerApply: 0 })
  t.same(feed(sweeping, cmds), feed(keeping, cmds))
  t.ok(sweeping.size <= keeping.size)

  // Many one-off keys over time: the table stays near the number of recently used keys.
  const churn = new RateLimitStateMachine()
  let max = 0
  for (let i = 0; i < 20_000; i++) {
    churn.apply({ key: `once-${i}`, cost: 1, stamp: T0 + i * 10, policy: slow })
    max = Math.max(max, churn.size)
  }
  // A bucket is full 1000 ms (100 applies) after use; with 2 examined per apply
  // every stale bucket is found within a few rounds.
  t.ok(max < 400, `size stayed bounded (max ${max})`)
  t.ok(churn.size < 400)
})

t.test('check is read-only, uses max(now, lastStamp) and cost 1', async (t) => {
  const m = new RateLimitStateMachine()
  t.same(m.check('nobody', T0, policy), { admitted: true, remaining: 5, retryAfterMs: 0, resetMs: 0, policy, duplicate: false })
  m.apply({ key: 'a', cost: 5, stamp: T0 + 1_000, policy })
  const hash = m.stateHash()
  const snap = m.snapshot()
  const empty = m.check('a', T0, policy)
  t.same(empty, { admitted: false, remaining: 0, retryAfterMs: 334, resetMs: 1_667, policy, duplicate: false },
    'a time before lastStamp is read at lastStamp')
  const one = m.check('a', T0 + 1_334, policy)
  t.equal(one.admitted, true)
  t.equal(one.remaining, 1)
  t.equal(m.stateHash(), hash)
  t.equal(m.snapshot(), snap)
  t.equal(m.lastStamp, T0 + 1_000, 'check does not advance time')
  t.equal(m.apply({ key: 'a', cost: 1, stamp: T0 + 1_333, policy }).admitted, false, 'agrees with apply')
  t.equal(m.apply({ key: 'a', cost: 1, stamp: T0 + 1_334, policy }).admitted, true, 'agrees with apply')
})

t.test('snapshot and restore give the same state and the same future', async (t) => {
  const opts: StateMachineOptions = { dedupTtlMs: 5_000 }
  const cmds = randomCommands(11, { count: 2000 })
  const original = new RateLimitStateMachine(opts)
  feed(original, cmds.slice(0, 1000))
  const restored = RateLimitStateMachine.restore(original.snapshot(), opts)
  t.equal(restored.stateHash(), original.stateHash())
  t.equal(restored.snapshot(), original.snapshot())
  t.equal(restored.size, original.size)
  t.equal(restored.dedupSize, original.dedupSize)
  t.equal(restored.lastStamp, original.lastStamp)
  t.ok(original.size > 0 && original.dedupSize > 0, 'the snapshot is not trivially empty')

  const rest = cmds.slice(1000)
  t.same(feed(restored, rest), feed(original, rest))
  t.equal(restored.snapshot(), original.snapshot(), 'also the same queue and expiry order')

  const empty = RateLimitStateMachine.restore(new RateLimitStateMachine().snapshot())
  t.equal(empty.stateHash(), new RateLimitStateMachine().stateHash())
})

t.test('restore rejects malformed snapshots', async (t) => {
  const bucket = ['a', 1000, T0, 1000, T0 + 10]
  const dedup = (stamp: number, key = 'a', seq = 1): unknown[] => [key, 'r', stamp, 1, 4, 0, 334, 3, 1000, 5, seq]
  const inSlices = (s: string): Promise<RateLimitStateMachine> => RateLimitStateMachine.restoreInSlices(s, async () => {})
  const rejects = async (bad: readonly (readonly [string, string])[]): Promise<void> => {
    for (const [s, why] of bad) {
      t.throws(() => RateLimitStateMachine.restore(s), { message: /snapshot/ }, why)
      await t.rejects(inSlices(s), { message: /snapshot/ }, `${why}, in slices`)
    }
  }
  // Version 3: a header line counting the rows, then lines of rows.
  const lines = (h: Record<string, unknown>, ...rows: unknown[][][]): string =>
    [JSON.stringify({ v: 3, lastStamp: T0, seq: 9, buckets: 0, dedup: 0, ...h }), ...rows.map((r) => JSON.stringify(r))].join('\n')
  await rejects([
    ['not json', 'not JSON'],
    ['[]', 'array'],
    [lines({ v: 4 }), 'unknown version'],
    [lines({ buckets: -1 }), 'negative bucket count'],
    [lines({ dedup: undefined }), 'header without a request-id count'],
    [lines({ buckets: 2 }, [bucket]), 'fewer bucket rows than counted'],
    [lines({ buckets: 1 }, [bucket, ['b', 1, T0, 1000, T0]]), 'more bucket rows than counted'],
    [lines({ buckets: 1 }, [bucket], [dedup(T0)]), 'a line past the counted rows'],
    [lines({ buckets: 1 }, [], [bucket]), 'an empty line'],
    [`${lines({ buckets: 1 })}\n[${JSON.stringify(bucket)}`, 'a line that is not JSON'],
    [lines({ buckets: 2 }, [bucket], [bucket]), 'duplicate bucket across lines'],
    [lines({ buckets: 1 }, [['a', -1, T0, 1000, T0]]), 'negative level'],
    [lines({ dedup: 2 }, [dedup(T0)], [dedup(T0 - 1, 'b', 2)]), 'dedup stamps out of order across lines'],
    [lines({ dedup: 2 }, [dedup(T0, 'a', 3)], [dedup(T0, 'b', 3)]), 'dedup seq not increasing across lines'],
    [lines({ dedup: 1, seq: 2 }, [dedup(T0, 'a', 3)]), 'dedup seq past the machine seq'],
    [JSON.stringify({ v: 3, lastStamp: T0, seq: 0, buckets: [], dedup: [] }), 'a version-3 image as one object'],
  ])
  const ok = lines({ buckets: 1, dedup: 2 }, [bucket], [dedup(T0 - 5, 'a', 2)], [dedup(T0, 'b', 9)])
  t.equal(RateLimitStateMachine.restore(ok).snapshot(), ok.replace('\n[[', '\n[[').split('\n').slice(0, 2).concat(`[${JSON.stringify(dedup(T0 - 5, 'a', 2))},${JSON.stringify(dedup(T0, 'b', 9))}]`).join('\n'), 'written back with the rows packed into lines')
  t.equal((await inSlices(ok)).snapshot(), RateLimitStateMachine.restore(ok).snapshot())

  // Versions 1 and 2: one object holding every row.
  const good = { v: 2, lastStamp: 0, seq: 0, buckets: [], dedup: [] }
  await rejects([
    [JSON.stringify({ ...good, v: 4 }), 'unknown version'],
    [JSON.stringify({ ...good, seq: -1 }), 'negative seq'],
    [JSON.stringify({ ...good, lastStamp: T0, seq: 5, dedup: [dedup(T0, 'a', 3), dedup(T0, 'b', 3)] }), 'dedup seq not increasing'],
    [JSON.stringify({ ...good, lastStamp: T0, seq: 2, dedup: [dedup(T0, 'a', 3)] }), 'dedup seq past the machine seq'],
    [JSON.stringify({ ...good, lastStamp: T0, seq: 5, dedup: [dedup(T0).slice(0, 10)] }), 'v2 dedup row without seq'],
    [JSON.stringify({ ...good, lastStamp: -1 }), 'negative lastStamp'],
    [JSON.stringify({ ...good, buckets: {} }), 'buckets not an array'],
    [JSON.stringify({ ...good, lastStamp: T0, buckets: [['a', 1]] }), 'short bucket row'],
    [JSON.stringify({ ...good, lastStamp: T0, buckets: [['a', -1, T0, 1000, T0]] }), 'negative level'],
    [JSON.stringify({ ...good, lastStamp: T0 - 1, buckets: [bucket] }), 'bucket stamp after lastStamp'],
    [JSON.stringify({ ...good, lastStamp: T0, buckets: [bucket, bucket] }), 'duplicate bucket'],
    [JSON.stringify({ ...good, lastStamp: T0, dedup: [dedup(T0), dedup(T0 - 1, 'b')] }), 'dedup stamps out of order'],
    [JSON.stringify({ ...good, lastStamp: T0, dedup: [dedup(T0), dedup(T0)] }), 'duplicate dedup entry'],
    [JSON.stringify({ ...good, lastStamp: T0, seq: 5, dedup: [[...dedup(T0).slice(0, 7), 0, 1000, 5, 1]] }), 'bad dedup policy'],
  ])
  const v2 = JSON.stringify({ ...good, lastStamp: T0, seq: 9, buckets: [bucket], dedup: [dedup(T0 - 5, 'a', 2), dedup(T0, 'b', 9)] })
  t.equal(RateLimitStateMachine.restore(v2).snapshot(), RateLimitStateMachine.restore(ok).snapshot(), 'a version-2 image gives the same state')
  t.equal((await inSlices(v2)).snapshot(), RateLimitStateMachine.restore(ok).snapshot())
  // A version-1 image (before seq) still loads, with seq 0.
  const v1 = JSON.stringify({ v: 1, lastStamp: T0, buckets: [bucket], dedup: [dedup(T0).slice(0, 10)] })
  const fromV1 = RateLimitStateMachine.restore(v1)
  t.equal(fromV1.dedupSize, 1)
  t.match(fromV1.snapshot(), /^\{"v":3,"lastStamp":\d+,"seq":0,"buckets":1,"dedup":1\}\n/)
  t.equal((await inSlices(v1)).snapshot(), fromV1.snapshot(), 'a version-1 image loads in slices too')
})

t.test('apply refuses an invalid command the same way everywhere', async (t) => {
  const m = new RateLimitStateMachine()
  t.throws(() => m.apply({ key: 'a', cost: 6, stamp: T0, policy }))
  t.throws(() => m.apply({ key: '', cost: 1, stamp: T0, policy }))
  t.equal(m.lastStamp, 0, 'a refused command changes nothing')
  t.equal(m.size, 0)
})

t.test('a batch applies exactly like its items one at a time, and answers each', async (t) => {
  const rnd = prng(11)
  const keys = ['k0', 'k1', 'k2', 'ключ-😀']
  const batched = new RateLimitStateMachine()
  const single = new RateLimitStateMachine()
  let stamp = T0
  const mismatches: string[] = []
  for (let b = 0; b < 400; b++) {
    stamp = rnd(20) === 0 ? stamp - rnd(2_000) : stamp + rnd(600)
    const items = Array.from({ length: 1 + rnd(8) }, (): BatchItem => {
      const key = keys[rnd(keys.length)] ?? 'k0'
      const cost = 1 + rnd(3)
      // Few request ids, so some repeat inside a batch and across batches.
      return rnd(3) === 0 ? { key, cost, requestId: `r${rnd(10)}` } : { key, cost }
    })
    const got = batched.applyBatch({ stamp, policy, items })
    const want = items.map((item) => single.apply({ ...item, stamp, policy }))
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`batch ${b}: decisions`)
    if (batched.stateHash() !== single.stateHash()) mismatches.push(`batch ${b}: state`)
  }
  t.same(mismatches, [])
  t.equal(batched.snapshot(), single.snapshot())
  t.ok(batched.size > 0 && batched.dedupSize > 0, 'the run held buckets and request ids')
})

t.test('an invalid batch applies none of its items', async (t) => {
  const m = new RateLimitStateMachine()
  m.apply({ key: 'a', cost: 1, stamp: T0, policy })
  const before = m.snapshot()
  const good = { key: 'a', cost: 1 }
  t.throws(() => m.applyBatch({ stamp: T0 + 10, policy, items: [good, { key: 'b', cost: 6 }] }), /item 1/)
  t.throws(() => m.applyBatch({ stamp: T0 + 10, policy, items: [] }))
  t.throws(() => m.applyBatch({ stamp: -1, policy, items: [good] }))
  t.equal(m.snapshot(), before, 'not even the valid items before the bad one')
})

t.test('snapshot lines equal snapshot() at the moment they were asked for, whatever is applied meanwhile', async (t) => {
  const m = new RateLimitStateMachine()
  const cmds = randomCommands(17, { count: 3_000, keys: 700 })
  for (const c of cmds.slice(0, 2_000)) m.apply(c.requestId === undefined ? { ...c, requestId: `r${c.stamp}-${c.key}` } : c)
  const expected = m.snapshot()
  let pauses = 0
  const later = cmds.slice(2_000)
  // Each pause applies more commands: the image must not see them.
  const lines: string[] = []
  for await (const line of m.snapshotLines(async () => {
    pauses++
    for (const c of later.splice(0, 50)) m.apply(c)
  }, 97)) lines.push(line)
  t.ok(pauses > 5, `${lines.length} lines`)
  t.equal(pauses, lines.length - 1, 'a pause between lines')
  t.not(m.snapshot(), expected, 'while the machine itself moved on')
  t.equal(RateLimitStateMachine.restore(lines.join('\n')).snapshot(), expected, 'the state at the moment they were asked for')

  const empty = new RateLimitStateMachine()
  const emptyLines: string[] = []
  for await (const line of empty.snapshotLines(async () => {}, 10)) emptyLines.push(line)
  t.equal(emptyLines.join('\n'), empty.snapshot(), 'empty state: the header line alone')
  t.equal(emptyLines.length, 1)
})
