// I5: admitted cost over any stamp interval <= burst + refill * elapsed / window.
import t from 'tap'
import { checkAdmission } from '../../src/check/admission.js'
import type { Op } from '../../src/check/history.js'

const policy = { refill: 2, windowMs: 1000, burst: 3 } // 2 tokens a second, capacity 3

let id = 0
function adm(stamp: number | undefined, cost = 1, key = 'k'): Op {
  const op: Op = { id: id++, clientId: 'c', key, kind: 'increment', cost, call: 0, ret: 1, outcome: { admitted: true, remaining: 0 } }
  return stamp === undefined ? op : { ...op, stamp }
}

t.test('a burst then the refill rate passes', async (t) => {
  // 3 at once, then one every 500 ms: exactly the limit, never above it.
  const h = [adm(0), adm(0), adm(0), adm(500), adm(1000), adm(1500), adm(2000, 1)]
  t.same(checkAdmission(h, policy), { ok: true, unstamped: 0 })
})

t.test('four at once with burst 3 is over-admission', async (t) => {
  const r = checkAdmission([adm(0), adm(1), adm(2), adm(3)], policy)
  t.equal(r.ok, false)
  if (r.ok === false) {
    t.equal(r.key, 'k')
    t.equal(r.admittedCost, 4)
    t.equal(r.from.stamp, 0)
    t.equal(r.to.stamp, 3)
    t.match(r.reason, /over-admission/)
  }
})

t.test('a violation in the middle of a long history is found', async (t) => {
  // Steady at the refill rate, then one token too many 1 ms early.
  const h = [adm(0), adm(0), adm(0)]
  for (let s = 500; s <= 5000; s += 500) h.push(adm(s))
  t.equal(checkAdmission(h, policy).ok, true)
  h.push(adm(5499))
  const r = checkAdmission(h, policy)
  t.equal(r.ok, false)
  if (r.ok === false) t.equal(r.to.stamp, 5499)
})

t.test('costs count, order of the input does not', async (t) => {
  t.equal(checkAdmission([adm(1000, 2), adm(0, 3)], policy).ok, true, '5 tokens over 1 s = 3 + 2, the limit')
  t.equal(checkAdmission([adm(999, 2), adm(0, 3)], policy).ok, false, '5 tokens over 999 ms > 3 + 1.998')
})

t.test('only acknowledged admitted increments count; keys are separate', async (t) => {
  const rejected: Op = { ...adm(0), outcome: { admitted: false, remaining: 0 } }
  const unknown: Op = { ...adm(0), outcome: 'unknown' }
  const check: Op = { ...adm(0), kind: 'check' }
  const h = [adm(0, 1, 'a'), adm(0, 1, 'a'), adm(0, 1, 'a'), adm(0, 1, 'b'), rejected, unknown, check, adm(undefined, 1, 'a')]
  t.same(checkAdmission(h, policy), { ok: true, unstamped: 1 })
})

t.test('exact with epoch-ms stamps where refill * stamp passes 2^53', async (t) => {
  // One token per ms exactly; refill * stamp ~ 1.5e20, beyond float precision.
  const big = { refill: 86_400_000, windowMs: 86_400_000, burst: 1 }
  const s = 1_700_000_000_000
  const h = Array.from({ length: 50 }, (_, k) => adm(s + k))
  t.equal(checkAdmission(h, big).ok, true, 'one per ms from a full bucket of 1 is exactly the limit')
  const r = checkAdmission([...h, adm(s + 49)], big)
  t.equal(r.ok, false, 'one more in the last ms is over')
  if (r.ok === false) t.equal(r.admittedCost, 51)
})

t.test('non-integer stamps are refused', async (t) => {
  t.throws(() => checkAdmission([adm(0.5)], policy), RangeError)
})
