import t from 'tap'
import { consume, levelAt, peek, type Bucket } from '../../src/ratelimit/bucket.js'
import { ceilDiv, floorDiv, rescale } from '../../src/ratelimit/int-math.js'
import { Fnv1a64 } from '../../src/ratelimit/fnv1a64.js'
import { assertValidPolicy, capacityUnits, MAX_BURST, MAX_WINDOW_MS, type Policy } from '../../src/ratelimit/policy.js'

const T0 = 1_700_000_000_000
// 5 tokens per minute: one token every 12 000 ms exactly.
const perMinute: Policy = { refill: 5, windowMs: 60_000, burst: 5 }

function drained(policy: Policy, at: number): Bucket {
  const r = consume(undefined, policy, policy.burst, at)
  if (!r.admitted) throw new Error('a full bucket must admit its burst')
  return r.bucket
}

t.test('an absent bucket is full', async (t) => {
  t.equal(levelAt(undefined, perMinute, T0), capacityUnits(perMinute))
  const p = peek(undefined, perMinute, T0)
  t.same(p, { admitted: true, remaining: 5, retryAfterMs: 0, resetMs: 0 })
  const r = consume(undefined, perMinute, 2, T0)
  t.equal(r.admitted, true)
  t.equal(r.remaining, 3)
  t.equal(r.bucket.level, 3 * 60_000)
  t.equal(r.resetMs, 24_000, 'two tokens take 2 * 12 000 ms to come back')
  t.equal(r.bucket.fullAt, T0 + 24_000)
})

t.test('refill of 5 per 60 s gives exactly one token every 12 000 ms', async (t) => {
  const b = drained(perMinute, T0)
  t.equal(b.level, 0)
  const before = peek(b, perMinute, T0 + 11_999)
  t.equal(before.admitted, false)
  t.equal(before.remaining, 0)
  t.equal(before.retryAfterMs, 1)
  const at = peek(b, perMinute, T0 + 12_000)
  t.equal(at.admitted, true)
  t.equal(at.remaining, 1)
  t.equal(levelAt(b, perMinute, T0 + 12_000), 60_000, 'one token = windowMs units')
  t.equal(peek(b, perMinute, T0 + 36_000).remaining, 3)
  t.equal(peek(b, perMinute, T0 + 59_999).remaining, 4)
  t.equal(peek(b, perMinute, T0 + 60_000).remaining, 5)
})

t.test('partial progress is kept over many small steps', async (t) => {
  // 3 tokens per 7 s: a token every 2333.33 ms, a rate no float-per-ms scheme keeps exact.
  const policy: Policy = { refill: 3, windowMs: 7_000, burst: 10 }
  const start = drained(policy, T0)
  let stepped: Bucket = start
  let admitted = 0
  for (let i = 1; i <= 1000; i++) {
    // Cost 10 is always rejected here, but each call stores the refilled level.
    const r = consume(stepped, policy, 10, T0 + i)
    if (r.admitted) admitted++
    stepped = r.bucket
  }
  t.equal(admitted, 0)
  const bigStep = consume(start, policy, 10, T0 + 1000)
  t.equal(stepped.level, 3000, '1000 ms at 3 units per ms')
  t.same(stepped, bigStep.bucket, 'same state whether time passed in 1000 steps or one')
  t.equal(bigStep.retryAfterMs, ceilDiv(70_000 - 3000, 3))

  // Admitted steps too: take one token as soon as it is there, for 100 tokens.
  let b: Bucket = start
  let now = T0
  let taken = 0
  while (taken < 100) {
    const r = consume(b, policy, 1, now)
    b = r.bucket
    if (r.admitted) taken++
    now += 1
  }
  // The 100th token appears at ceil(100 * 7000 / 3) ms and not a ms earlier.
  t.equal(now - 1 - T0, ceilDiv(100 * 7000, 3))
})

t.test('capacity caps refill; a +1h jump gives exactly a full bucket', async (t) => {
  const b = drained(perMinute, T0)
  const later = peek(b, perMinute, T0 + 3_600_000)
  t.same(later, { admitted: true, remaining: 5, retryAfterMs: 0, resetMs: 0 })
  t.equal(levelAt(b, perMinute, T0 + 3_600_000), capacityUnits(perMinute))
  // Far future stamp: no overflow, still exactly capacity.
  t.equal(levelAt(b, perMinute, 8_000_000_000_000_000), capacityUnits(perMinute))
  const r = consume(b, perMinute, 5, T0 + 3_600_000)
  t.equal(r.admitted, true)
  t.equal(r.remaining, 0)
})

t.test('cost above the level is rejected, spends nothing, and gets the right retryAfterMs', async (t) => {
  const b = drained(perMinute, T0)
  const now = T0 + 5_000 // 25 000 units = 0.41 tokens
  const r = consume(b, perMinute, 2, now)
  t.equal(r.admitted, false)
  t.equal(r.remaining, 0)
  t.equal(r.bucket.level, 25_000, 'level is refilled but not spent')
  t.equal(r.retryAfterMs, 19_000, '(120 000 - 25 000) / 5 units per ms')
  t.equal(consume(r.bucket, perMinute, 2, now + 18_999).admitted, false)
  const ok = consume(r.bucket, perMinute, 2, now + 19_000)
  t.equal(ok.admitted, true)
  t.equal(ok.bucket.level, 0)
  t.equal(ok.retryAfterMs, 0)
})

t.test('a clock going backwards refills nothing and never makes the level negative', async (t) => {
  const half = consume(drained(perMinute, T0), perMinute, 1, T0 + 30_000) // 150 000 -> 90 000 units
  t.equal(half.bucket.level, 90_000)
  const back = consume(half.bucket, perMinute, 1, T0 - 1_000_000)
  t.equal(back.admitted, true)
  t.equal(back.bucket.level, 30_000)
  t.equal(back.bucket.stamp, T0 + 30_000, 'stamp never moves back')
  const again = consume(back.bucket, perMinute, 1, T0)
  t.equal(again.admitted, false, 'no refill for time before the stamp')
  t.equal(again.bucket.level, 30_000)
  t.ok(again.bucket.level >= 0)
  t.equal(peek(again.bucket, perMinute, 0).remaining, 0)
  t.equal(levelAt(again.bucket, perMinute, T0 - 1_000_000), 30_000, 'levelAt before the stamp is the stored level')
})

t.test('peek changes nothing and reports the cost-1 answer', async (t) => {
  const b = consume(undefined, perMinute, 4, T0).bucket
  const copy = { ...b }
  const p = peek(b, perMinute, T0)
  t.same(b, copy)
  t.same(p, { admitted: true, remaining: 1, retryAfterMs: 0, resetMs: 48_000 })
  const empty = consume(b, perMinute, 1, T0).bucket
  t.same(peek(empty, perMinute, T0 + 2_000), { admitted: false, remaining: 0, retryAfterMs: 10_000, resetMs: 58_000 })
})

t.test('a policy change clamps to the new capacity and rescales units', async (t) => {
  const big: Policy = { refill: 10, windowMs: 1_000, burst: 100 }
  const b = consume(undefined, big, 10, T0).bucket // 90 tokens
  const small: Policy = { refill: 10, windowMs: 1_000, burst: 20 }
  t.equal(levelAt(b, small, T0), 20_000, 'clamped to 20 tokens')
  const r = consume(b, small, 20, T0)
  t.equal(r.admitted, true)
  t.equal(r.remaining, 0)
  // Same tokens, different window: 90 tokens of 1000 units become 90 tokens of 60 000 units.
  const minute: Policy = { refill: 10, windowMs: 60_000, burst: 100 }
  t.equal(levelAt(b, minute, T0), 90 * 60_000)
  t.equal(peek(b, minute, T0).remaining, 90)
})

t.test('invalid inputs throw', async (t) => {
  t.throws(() => consume(undefined, perMinute, 0, T0))
  t.throws(() => consume(undefined, perMinute, 6, T0), 'cost above burst can never pass')
  t.throws(() => consume(undefined, perMinute, 1.5, T0))
  t.throws(() => consume(undefined, perMinute, 1, -1))
  t.throws(() => consume(undefined, perMinute, 1, 0.5))
  t.throws(() => assertValidPolicy({ refill: 0, windowMs: 1000, burst: 1 }))
  t.throws(() => assertValidPolicy({ refill: 1, windowMs: MAX_WINDOW_MS + 1, burst: 1 }))
  t.throws(() => assertValidPolicy({ refill: 1, windowMs: 1000, burst: MAX_BURST + 1 }))
  t.doesNotThrow(() => assertValidPolicy({ refill: 1, windowMs: MAX_WINDOW_MS, burst: MAX_BURST }))
})

t.test('the largest policy stays exact (below 2^53)', async (t) => {
  const max: Policy = { refill: 1, windowMs: MAX_WINDOW_MS, burst: MAX_BURST }
  const cap = capacityUnits(max)
  t.ok(Number.isSafeInteger(cap))
  const b = consume(undefined, max, MAX_BURST, T0).bucket
  t.equal(b.fullAt, T0 + cap)
  t.ok(Number.isSafeInteger(b.fullAt))
  t.equal(levelAt(b, max, T0 + cap - 1), cap - 1)
  t.equal(levelAt(b, max, T0 + cap), cap)
})

t.test('integer helpers are exact', async (t) => {
  let seed = 12345
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
  const wrong: string[] = []
  for (let i = 0; i < 20_000; i++) {
    const a = next() * 2 ** 17 + next()
    const b = (next() % 100_000) + 1
    if (BigInt(floorDiv(a, b)) !== BigInt(a) / BigInt(b)) wrong.push(`floor ${a}/${b}`)
    if (BigInt(ceilDiv(a, b)) !== (BigInt(a) + BigInt(b) - 1n) / BigInt(b)) wrong.push(`ceil ${a}/${b}`)
  }
  t.same(wrong, [])
  t.equal(ceilDiv(0, 7), 0)
  t.equal(floorDiv(6, 7), 0)
  t.equal(rescale(8.64e13, 86_400_000, 86_399_999), 86_399_999 * 1_000_000)
})

t.test('FNV-1a 64 matches the reference vectors', async (t) => {
  t.equal(new Fnv1a64().hex(), 'cbf29ce484222325')
  t.equal(new Fnv1a64().string('a').hex(), 'af63dc4c8601ec8c')
  t.equal(new Fnv1a64().string('foobar').hex(), '85944171f73967e8')
  t.equal(new Fnv1a64().string('é😀').hex(), '52da6ebdce68376c', 'UTF-8 of 2- and 4-byte characters')
  t.equal(new Fnv1a64().string('\ud800').hex(), '5befa31b8ab04db8', 'a lone surrogate gets its own bytes')
})
