// Cross-check: on tiny histories the checker's verdict must equal an
// exhaustive search over every order that respects real time (memo and twin
// pruning must never change an answer).
import t from 'tap'
import type { Op } from '../../src/check/history.js'
import { checkHistory } from '../../src/check/linearizability.js'
import type { BucketModel } from '../../src/check/model.js'
import { tokenBucketModel, type TokenBucketState } from '../../src/check/token-bucket-model.js'
import { mulberry32 } from '../support/prng.js'

const prng = mulberry32

const policy = { refill: 1, windowMs: 1000, burst: 3 }
/** Exact levels: used to make answers, and checked against too. */
const pointModel = tokenBucketModel(policy, { unstampedUnknown: 'zero-elapsed' })
const models: [string, BucketModel<TokenBucketState>][] = [
  ['default (anytime)', tokenBucketModel(policy)],
  ['zero-elapsed', pointModel],
  ['ordered stamps', tokenBucketModel(policy, { stamps: 'ordered' })],
]

/** Every op that returned must be placed; x may go next once all ops that returned before x's call are placed. */
function bruteForce(ops: Op[], model: BucketModel<TokenBucketState>): boolean {
  const placed = new Array<boolean>(ops.length).fill(false)
  const search = (state: TokenBucketState): boolean => {
    if (ops.every((o, i) => placed[i] || o.outcome === 'unknown')) return true
    for (let i = 0; i < ops.length; i++) {
      const x = ops[i]
      if (x === undefined || placed[i]) continue
      if (ops.some((y, j) => !placed[j] && y.outcome !== 'unknown' && y.ret < x.call)) continue
      const r = model.step(state, x)
      if (!r.ok) continue
      placed[i] = true
      const found = search(r.next)
      placed[i] = false
      if (found) return true
    }
    return false
  }
  return search(model.init())
}

/** The outcome the model gives `op` in `state` (found by asking it which answer fits). */
function answer(state: TokenBucketState, op: Op): { admitted: boolean; remaining: number } {
  for (const admitted of [true, false]) {
    for (let remaining = 0; remaining <= 3; remaining++) {
      if (pointModel.step(state, { ...op, outcome: { admitted, remaining } }).ok) return { admitted, remaining }
    }
  }
  throw new Error('no outcome fits')
}

/**
 * Tiny history: each op takes effect at a random point inside its interval
 * (an unknown one maybe never) and is stamped with that time; answers come
 * from the exact model. Most unknown ops and some known ones then lose their
 * stamp, and half the histories get one answer perturbed, so both verdicts
 * and both models' readings of unstamped ops are exercised.
 */
function tiny(rand: () => number, n: number): Op[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const ops: { op: Op; at: number; applied: boolean }[] = []
  for (let id = 0; id < n; id++) {
    const kind: Op['kind'] = rand() < 0.25 ? 'check' : 'increment'
    const call = Math.floor(rand() * 8)
    const unknown = rand() < 0.3
    const ret = unknown ? Infinity : call + Math.floor(rand() * 4)
    const at = call + rand() * (unknown ? 6 : ret - call)
    const op: Op = { id, clientId: id, key: 'k', kind, cost: kind === 'check' ? 1 : pick([1, 1, 2]), call, ret, outcome: 'unknown' }
    ops.push({ op: { ...op, stamp: Math.floor(at * 250) }, at, applied: !unknown || rand() < 0.6 })
  }
  let state = pointModel.init()
  for (const o of [...ops].sort((a, b) => a.at - b.at)) {
    if (!o.applied) continue
    if (o.op.ret !== Infinity) o.op = { ...o.op, outcome: answer(state, o.op) }
    state = pointModel.step(state, o.op).next
  }
  const out = ops.map(({ op }) => {
    if (rand() >= (op.outcome === 'unknown' ? 0.7 : 0.2)) return op
    const { stamp: _hidden, ...rest } = op
    return rest
  })
  const victim = Math.floor(rand() * out.length)
  const v = out[victim]
  if (rand() < 0.5 && v !== undefined && v.outcome !== 'unknown') {
    out[victim] = { ...v, outcome: { admitted: rand() < 0.5, remaining: pick([0, 1, 2, 3]) } }
  }
  return out
}

for (const [name, model] of models) {
  t.test(`${name}: agrees with exhaustive search on 3,000 tiny histories`, async (t) => {
    const rand = prng(99)
    let yes = 0
    let no = 0
    let disagreements = 0
    for (let k = 0; k < 3000; k++) {
      const h = tiny(rand, 3 + Math.floor(rand() * 5)) // 3..7 ops
      const expected = bruteForce(h, model)
      const got = checkHistory(h, model).ok
      if (got !== expected) {
        disagreements++
        if (disagreements <= 3) t.comment(`disagree (checker ${String(got)}, brute force ${expected}): ${JSON.stringify(h)}`)
      }
      if (expected) yes++
      else no++
    }
    t.equal(disagreements, 0)
    t.comment(`linearizable ${yes}, not ${no}`)
    t.ok(yes > 300 && no > 300, 'both verdicts are well represented')
  })
}
