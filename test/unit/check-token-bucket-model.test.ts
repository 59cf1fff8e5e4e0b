// The default model's arithmetic, on hand-computed cases.
import t from 'tap'
import type { Op } from '../../src/check/history.js'
import { tokenBucketModel, type TokenBucketState } from '../../src/check/token-bucket-model.js'

const policy = { refill: 2, windowMs: 1000, burst: 3 } // 2 tokens per second, capacity 3
const model = tokenBucketModel(policy)

function op(kind: Op['kind'], outcome: Op['outcome'], extra: Partial<Op> = {}): Op {
  return { id: 1, clientId: 'c', key: 'k', kind, cost: 1, call: 0, ret: 1, outcome, ...extra }
}
/** A state holding exactly one level. */
const exact = (level: number, at: number | null): TokenBucketState => ({ lo: level, hi: level, at, pending: 0 })

t.test('starts full, increments spend cost * windowMs units', async (t) => {
  const s0 = model.init()
  t.same(s0, exact(3000, null))
  const r = model.step(s0, op('increment', { admitted: true, remaining: 1 }, { cost: 2 }))
  t.ok(r.ok)
  t.same(r.next, exact(1000, null))
  t.notOk(model.step(s0, op('increment', { admitted: true, remaining: 2 }, { cost: 2 })).ok, 'wrong remaining is not ok')
  t.notOk(model.step(s0, op('increment', { admitted: false, remaining: 1 }, { cost: 2 })).ok, 'wrong verdict is not ok')
})

t.test('a rejected increment spends nothing and reports the floor of the level', async (t) => {
  const r = model.step(exact(1999, 0), op('increment', { admitted: false, remaining: 1 }, { cost: 2, stamp: 0 }))
  t.ok(r.ok)
  t.same(r.next, exact(1999, 0))
})

t.test('refill is refill units per ms, capped at capacity', async (t) => {
  const s = exact(0, 1000)
  // 250 ms * 2 units/ms = 500 units: half a token, not enough.
  t.ok(model.step(s, op('increment', { admitted: false, remaining: 0 }, { stamp: 1250 })).ok)
  // 500 ms -> exactly one token.
  const r = model.step(s, op('increment', { admitted: true, remaining: 0 }, { stamp: 1500 }))
  t.ok(r.ok)
  t.same(r.next, exact(0, 1500))
  // an hour later the bucket is full, not over-full.
  t.ok(model.step(s, op('check', { admitted: true, remaining: 3 }, { stamp: 3_601_000 })).ok)
})

t.test('a check consumes nothing and leaves the clock alone', async (t) => {
  const s = exact(900, 0)
  t.ok(model.step(s, op('check', { admitted: false, remaining: 0 }, { stamp: 0 })).ok)
  const r = model.step(s, op('check', { admitted: true, remaining: 1 }, { stamp: 50 }))
  t.ok(r.ok)
  t.equal(r.next, s)
})

t.test('time never goes back', async (t) => {
  const back = model.step(exact(0, 5000), op('increment', { admitted: false, remaining: 0 }, { stamp: 1000 }))
  t.ok(back.ok)
  t.same(back.next, exact(0, 5000))
})

t.test('an unstamped unknown increment is paid at the next op, at some time in between', async (t) => {
  // 0.84 tokens at t=9350, 2 units/ms: the unknown take needs a whole token,
  // so it can only have run from t=9430 on. A check at 9520 (1.18 tokens
  // without it) that saw 0 tokens proves it ran; 0.18 are left.
  const u = model.step(exact(840, 9350), op('increment', 'unknown'))
  t.ok(u.ok)
  t.same(u.next, { lo: 840, hi: 840, at: 9350, pending: 1000 })
  t.ok(model.step(u.next, op('check', { admitted: false, remaining: 0 }, { stamp: 9520 })).ok)
  const inc = model.step(u.next, op('increment', { admitted: false, remaining: 0 }, { stamp: 9520 }))
  t.ok(inc.ok)
  t.same(inc.next, exact(180, 9520), 'taken at 9430 or later: 180 left either way')
  // Not payable: even at 9400 the bucket cannot have held a token.
  t.notOk(model.step(u.next, op('check', { admitted: false, remaining: 0 }, { stamp: 9400 })).ok)
  // Full bucket, long gap: anything from "taken at the end" to "refilled since".
  const wide: TokenBucketState = { lo: 3000, hi: 3000, at: 0, pending: 1000 }
  t.ok(model.step(wide, op('check', { admitted: true, remaining: 2 }, { stamp: 10_000 })).ok, 'taken at the end')
  t.ok(model.step(wide, op('check', { admitted: true, remaining: 3 }, { stamp: 10_000 })).ok, 'taken early, refilled since')
  const next = model.step(wide, op('increment', 'unknown', { stamp: 10_000 }))
  t.same(next.next, { lo: 1000, hi: 2000, at: 10_000, pending: 0 }, 'a second take leaves 1 to 2 tokens')
})

t.test("the brief's zero-elapsed rule is still available", async (t) => {
  const zero = tokenBucketModel(policy, { unstampedUnknown: 'zero-elapsed' })
  const u = zero.step(exact(840, 9350), op('increment', 'unknown'))
  t.same(u.next, exact(840, 9350), 'too few tokens at 9350: rejected, spends nothing')
  t.notOk(zero.step(u.next, op('check', { admitted: false, remaining: 0 }, { stamp: 9520 })).ok)
  t.same(zero.step(exact(1000, 5000), op('increment', 'unknown')).next, exact(0, 5000))
})

t.test("ordered stamps: an op stamped before the last one cannot come next", async (t) => {
  const ordered = tokenBucketModel(policy, { stamps: 'ordered' })
  const late = op('increment', { admitted: false, remaining: 0 }, { stamp: 1000 })
  t.ok(model.step(exact(0, 5000), late).ok, 'clamp (default): takes effect at 5000')
  t.notOk(ordered.step(exact(0, 5000), late).ok)
  t.ok(ordered.step(exact(0, 5000), { ...late, stamp: 5000 }).ok, 'an equal stamp is fine')
  t.ok(ordered.step(exact(0, 5000), op('increment', 'unknown')).ok, 'an unstamped op is not constrained')
})

t.test('hash tells states apart', async (t) => {
  t.not(model.hash(exact(1, 2)), model.hash(exact(1, 3)))
  t.not(model.hash(exact(1, null)), model.hash(exact(1, 0)))
  t.not(model.hash(exact(1, 0)), model.hash({ lo: 1, hi: 1, at: 0, pending: 1 }))
  t.not(model.hash(exact(1, 0)), model.hash({ lo: 1, hi: 2, at: 0, pending: 0 }))
  t.equal(model.hash(exact(7, 9)), model.hash(exact(7, 9)))
})

t.test('an invalid policy is refused', async (t) => {
  t.throws(() => tokenBucketModel({ refill: 0, windowMs: 1000, burst: 3 }))
})
