// Hand-made histories with a known verdict for the I4 checker.
import t from 'tap'
import type { Op } from '../../src/check/history.js'
import type { BucketModel } from '../../src/check/model.js'
import { checkHistory } from '../../src/check/linearizability.js'
import { tokenBucketModel } from '../../src/check/token-bucket-model.js'

// burst 3; without stamps no time passes, so nothing refills.
const model = tokenBucketModel({ refill: 1, windowMs: 1000, burst: 3 })

let nextId = 1
type Spec = { c?: string; key?: string; cost?: number; stamp?: number }
const ok = (remaining: number) => ({ admitted: true, remaining })
const no = (remaining: number) => ({ admitted: false, remaining })
function inc(call: number, ret: number, outcome: Op['outcome'], s: Spec = {}): Op {
  return mk('increment', call, ret, outcome, s)
}
function chk(call: number, ret: number, outcome: Op['outcome'], s: Spec = {}): Op {
  return mk('check', call, ret, outcome, s)
}
function mk(kind: Op['kind'], call: number, ret: number, outcome: Op['outcome'], s: Spec): Op {
  const op: Op = { id: nextId++, clientId: s.c ?? 'a', key: s.key ?? 'k', kind, cost: s.cost ?? 1, call, ret, outcome }
  return s.stamp === undefined ? op : { ...op, stamp: s.stamp }
}
const unknown = (call: number, s: Spec = {}): Op => inc(call, Infinity, 'unknown', s)

t.test('sequential histories', async (t) => {
  const good = [inc(0, 1, ok(2)), inc(2, 3, ok(1)), chk(4, 5, ok(1)), inc(6, 7, ok(0)), inc(8, 9, no(0)), chk(10, 11, no(0))]
  t.same(checkHistory(good, model), { ok: true })
  t.same(checkHistory([], model), { ok: true }, 'empty history')

  const a = inc(0, 1, ok(2))
  const b = inc(2, 3, ok(2)) // the second increment cannot leave 2
  const r = checkHistory([a, b, inc(4, 5, ok(1))], model)
  t.equal(r.ok, false)
  if (r.ok === false) {
    t.equal(r.key, 'k')
    t.same(r.partial.map((o) => o.id), [a.id], 'longest prefix is the first increment')
    t.match(r.reason, new RegExp(`op ${b.id} `), 'reason names the op that cannot fit')
  }
})

t.test('concurrent increments where only one order works', async (t) => {
  // A (cost 2) is called first, but its answer says B (cost 1) went first.
  const a = inc(0, 10, ok(0), { cost: 2, c: 'a' })
  const b = inc(1, 9, ok(2), { c: 'b' })
  t.same(checkHistory([a, b], model), { ok: true })
  // The same answers when A returned before B was called cannot be ordered.
  const a2 = inc(0, 1, ok(0), { cost: 2, c: 'a' })
  const b2 = inc(2, 3, ok(2), { c: 'b' })
  t.equal(checkHistory([a2, b2], model).ok, false)
})

t.test('a stale read is rejected, a concurrent one is not', async (t) => {
  t.equal(checkHistory([inc(0, 1, ok(2)), chk(2, 3, ok(3), { c: 'b' })], model).ok, false)
  t.same(checkHistory([inc(0, 2, ok(2)), chk(1, 3, ok(3), { c: 'b' })], model), { ok: true })
})

t.test('over-admission is rejected', async (t) => {
  const h = [inc(0, 1, ok(2)), inc(2, 3, ok(1)), inc(4, 5, ok(0)), inc(6, 7, ok(0))]
  const r = checkHistory(h, model)
  t.equal(r.ok, false)
  if (r.ok === false) t.equal(r.partial.length, 3)
})

t.test('an unknown outcome may have happened or not', async (t) => {
  // must have happened: the first acknowledged increment already sees 1 left.
  t.same(checkHistory([unknown(0, { c: 'u' }), inc(1, 2, ok(1)), chk(3, 4, ok(1))], model), { ok: true })
  // must not have happened (or not yet): everything adds up without it.
  t.same(checkHistory([unknown(0, { c: 'u' }), inc(1, 2, ok(2)), inc(3, 4, ok(1)), chk(5, 6, ok(1))], model), { ok: true })
  // may happen long after the client gave up, between two later ops.
  t.same(checkHistory([unknown(0, { c: 'u' }), inc(1, 2, ok(2)), inc(3, 4, ok(0))], model), { ok: true })
  // it cannot explain two sequential answers that both say 1 left.
  t.equal(checkHistory([unknown(0, { c: 'u' }), inc(1, 2, ok(1)), inc(3, 4, ok(1))], model).ok, false)
  // nor take effect before it was called.
  t.equal(checkHistory([inc(0, 1, ok(1)), unknown(2, { c: 'u' })], model).ok, false)
  // a check whose answer is unknown constrains nothing.
  t.same(checkHistory([chk(0, Infinity, 'unknown'), inc(1, 2, ok(2))], model), { ok: true })
})

t.test('refill follows the stamps', async (t) => {
  const h = [
    inc(0, 1, ok(2), { stamp: 0 }),
    inc(2, 3, ok(1), { stamp: 0 }),
    inc(4, 5, ok(0), { stamp: 0 }),
    inc(6, 7, no(0), { stamp: 500 }), // half a token back
    inc(8, 9, ok(0), { stamp: 1000 }), // one whole token back
    chk(10, 11, ok(2), { stamp: 3000 }),
  ]
  t.same(checkHistory(h, model), { ok: true })
  const early = [...h.slice(0, 3), inc(6, 7, ok(0), { stamp: 500 })]
  t.equal(checkHistory(early, model).ok, false, 'admitted before a token refilled')
})

t.test('keys are checked independently and the failing key is named', async (t) => {
  const h = [inc(0, 10, ok(2), { key: 'x' }), inc(0, 10, ok(2), { key: 'y' }), inc(11, 12, ok(1), { key: 'x' })]
  t.same(checkHistory(h, model), { ok: true })
  const r = checkHistory([...h, inc(13, 14, ok(2), { key: 'y' })], model)
  t.equal(r.ok, false)
  if (r.ok === false) t.equal(r.key, 'y')
})

t.test('the budget turns a long search into unknown', async (t) => {
  const h = [inc(0, 1, ok(2)), inc(2, 3, ok(1)), inc(4, 5, ok(0))]
  const r = checkHistory(h, model, { maxSteps: 2 })
  t.equal(r.ok, 'unknown')
  if (r.ok === 'unknown') t.equal(r.key, 'k')
  t.same(checkHistory(h, model, { maxSteps: 3 }), { ok: true })
})

t.test('memoization keeps a wide concurrent failure small', async (t) => {
  // 12 concurrent increments whose answers say nothing about order, then a
  // read no order can produce. Every order fails: 12! ~ 4.8e8 of them, but only
  // 2^12 distinct (set, state) pairs, so a small budget is enough.
  const toy: BucketModel<number> = {
    init: () => 0,
    step: (n, o) => (o.kind === 'check' ? { ok: o.outcome !== 'unknown' && o.outcome.remaining === n, next: n } : { ok: true, next: n + o.cost }),
    hash: (n) => String(n),
  }
  const h: Op[] = []
  for (let i = 0; i < 12; i++) h.push(inc(0, 100, ok(0), { c: `c${i}` }))
  h.push(chk(101, 102, ok(13)))
  t.equal(checkHistory(h, toy, { maxSteps: 200_000 }).ok, false)
  h.pop()
  h.push(chk(101, 102, ok(12)))
  t.same(checkHistory(h, toy, { maxSteps: 200_000 }), { ok: true })
})

t.test('malformed histories throw', async (t) => {
  t.throws(() => checkHistory([inc(5, 4, ok(2))], model), RangeError)
  t.throws(() => checkHistory([inc(NaN, 4, ok(2))], model), RangeError)
})
