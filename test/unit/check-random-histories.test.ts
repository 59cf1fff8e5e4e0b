// Property tests: histories recorded from a correct sequential bucket under
// random concurrency always pass; one mutated answer is almost always caught.
import t from 'tap'
import type { Op } from '../../src/check/history.js'
import { checkHistory } from '../../src/check/linearizability.js'
import { tokenBucketModel } from '../../src/check/token-bucket-model.js'
import { mulberry32 } from '../support/prng.js'

const prng = mulberry32

const policy = { refill: 4, windowMs: 1000, burst: 5 }
// 10 ms a tick keeps the bucket under pressure: roughly a quarter of increments are rejected.
const MS_PER_TICK = 10

/** An independent reference bucket (plain integers), one per key. */
class RefBucket {
  private level = policy.burst * policy.windowMs
  private at: number | null = null
  apply(kind: Op['kind'], cost: number, stamp: number): { admitted: boolean; remaining: number } {
    if (this.at !== null) this.level = Math.min(policy.burst * policy.windowMs, this.level + policy.refill * (stamp - this.at))
    this.at = stamp
    const want = kind === 'check' ? policy.windowMs : cost * policy.windowMs
    const admitted = this.level >= want
    if (admitted && kind === 'increment') this.level -= want
    return { admitted, remaining: Math.floor(this.level / policy.windowMs) }
  }
}

type Pending = { op: Op; fate: 'ack' | 'lost' | 'applied-unknown'; applied: boolean }

/**
 * Clients each run one op at a time. Every tick one random client moves its
 * op along: call, take effect (stamped with the tick), return. Some ops time
 * out: their outcome is unknown and they took effect or were lost.
 */
function generate(rand: () => number, n: number, clients: number, keys: number, unknownRate: number, busy = 0.2): Op[] {
  const buckets = new Map<string, RefBucket>()
  const pending = new Map<number, Pending>()
  const out: Op[] = []
  let started = 0
  for (let tick = 0; started < n || pending.size > 0; tick++) {
    const c = Math.floor(rand() * clients)
    const p = pending.get(c)
    if (p === undefined) {
      // Think time: an idle client starts an op only some of the time.
      if (started >= n || rand() >= busy) continue
      const kind: Op['kind'] = rand() < 0.3 ? 'check' : 'increment'
      const cost = kind === 'check' ? 1 : rand() < 0.8 ? 1 : 2
      const key = `k${Math.floor(rand() * keys)}`
      const op: Op = { id: started++, clientId: c, key, kind, cost, call: tick, ret: Infinity, outcome: 'unknown' }
      const r = rand()
      pending.set(c, { op, fate: r < unknownRate / 2 ? 'lost' : r < unknownRate ? 'applied-unknown' : 'ack', applied: false })
    } else if (!p.applied && p.fate !== 'lost') {
      const stamp = tick * MS_PER_TICK
      let b = buckets.get(p.op.key)
      if (b === undefined) buckets.set(p.op.key, (b = new RefBucket()))
      const outcome = b.apply(p.op.kind, p.op.cost, stamp)
      p.applied = true
      // The simulator may know an unacknowledged op's stamp from the log; a real client never does.
      p.op = p.fate === 'ack' ? { ...p.op, outcome, stamp } : rand() < 0.5 ? { ...p.op, stamp } : p.op
    } else {
      // The client hears back (or gives up); an unknown op keeps ret = Infinity.
      out.push(p.fate === 'ack' ? { ...p.op, ret: tick } : p.op)
      pending.delete(c)
    }
  }
  return out
}

/**
 * Changes one acknowledged answer: flips the verdict or moves remaining by
 * two. (A change of one is often a legal answer: swapping two concurrent
 * cost-1 ops explains it. The brute-force test covers exactness instead.)
 */
function mutate(rand: () => number, h: Op[]): Op[] {
  const known = h.map((o, i) => [o, i] as const).filter(([o]) => o.outcome !== 'unknown')
  const pick = known[Math.floor(rand() * known.length)]
  if (pick === undefined) return h
  const [o, i] = pick
  if (o.outcome === 'unknown') return h
  const r = rand()
  const { admitted, remaining } = o.outcome
  const outcome = r < 0.4 ? { admitted: !admitted, remaining } : { admitted, remaining: r < 0.7 || remaining < 2 ? remaining + 2 : remaining - 2 }
  const copy = h.slice()
  copy[i] = { ...o, outcome }
  return copy
}

/** An answer no order can give: a full bucket right after an admitted take. */
function impossible(h: Op[]): Op[] {
  const i = h.findIndex((o) => o.kind === 'increment' && o.outcome !== 'unknown' && o.outcome.admitted && o.call > 1000)
  const o = h[i]
  if (o === undefined) throw new Error('no admitted increment to break')
  const copy = h.slice()
  copy[i] = { ...o, outcome: { admitted: true, remaining: policy.burst } }
  return copy
}

const model = tokenBucketModel(policy)
const orderedModel = tokenBucketModel(policy, { stamps: 'ordered' })

t.test('200 correct random histories pass; mutated ones are caught', async (t) => {
  const rand = prng(20240601)
  let failures = 0
  let caught = 0
  let unknowns = 0
  const total = 200
  for (let k = 0; k < total; k++) {
    const clients = 5 + Math.floor(rand() * 6) // 5..10
    const h = generate(rand, 150, clients, 2, 0.02)
    unknowns += h.filter((o) => o.outcome === 'unknown').length
    // Stamps here are the ones applied, in log order, so the stricter reading must pass too.
    const r = checkHistory(h, model)
    if (checkHistory(h, orderedModel).ok !== true) failures++
    if (r.ok !== true) {
      failures++
      if (failures <= 3) t.comment(`history ${k} wrongly rejected: ${r.ok === false ? r.reason : 'unknown'}`)
    }
    if (checkHistory(mutate(rand, h), model).ok === false) caught++
  }
  t.ok(unknowns > 0, `histories include unknown outcomes (${unknowns})`)
  t.equal(failures, 0, 'every correct history is linearizable')
  t.comment(`mutations caught: ${caught}/${total}`)
  t.ok(caught > 0.9 * total, `more than 90% of mutations caught (${caught}/${total})`)
})

t.test('a 2,000-op history from 8 clients on one key checks quickly', async (t) => {
  const rand = prng(7)
  const h = generate(rand, 2000, 8, 1, 0.01)
  let start = performance.now()
  const r = checkHistory(h, model)
  const okMs = performance.now() - start
  t.comment(`2000 ops, 8 clients: ${okMs.toFixed(0)} ms`)
  t.same(r, { ok: true })
  t.ok(okMs < 20_000, 'well under 20 s')

  start = performance.now()
  const bad = checkHistory(impossible(h), model)
  const badMs = performance.now() - start
  t.comment(`same history with one impossible answer: ${bad.ok === false ? 'rejected' : String(bad.ok)} in ${badMs.toFixed(0)} ms`)
  t.equal(bad.ok, false)
  t.ok(badMs < 20_000, 'well under 20 s')
})
