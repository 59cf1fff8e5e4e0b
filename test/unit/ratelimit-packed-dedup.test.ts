// The request-id table keeps entries in a ring of typed-array columns. It must
// answer and expire exactly like a Map of entry objects, through growth,
// wrap-around and shrinking, and rows() must be a copy.
import t from 'tap'
import type { Decision } from '../../src/ratelimit/decision.js'
import { DedupTable, type DedupEntry } from '../../src/ratelimit/dedup-table.js'
import { mulberry32 } from '../support/prng.js'

const idOf = (key: string, requestId: string): string => JSON.stringify([key, requestId])

function show(e: DedupEntry | undefined): string {
  return JSON.stringify(e)
}

t.test('answers get() and expires in order exactly like a Map of entries', async (t) => {
  for (const seed of [1, 2, 3, 4]) {
    const next = mulberry32(seed)
    const rnd = (n: number): number => Math.floor(next() * n)
    const ttl = 1_000
    const minApplies = seed % 2 === 0 ? 0 : 300
    const ref = new Map<string, DedupEntry>()
    const table = new DedupTable(ttl, minApplies)
    let now = 1_700_000_000_000
    let seq = 0
    let maxSize = 0
    let bad = ''
    for (let step = 0; step < 40_000 && bad === ''; step++) {
      // Phases: a burst of ids (the ring grows and wraps), then a quiet spell (it shrinks).
      const burst = Math.floor(step / 8_000) % 2 === 0
      const op = rnd(10)
      if (op < (burst ? 7 : 2)) {
        seq++
        now += rnd(burst ? 20 : 3) === 0 ? 1 : 0
        const decision: Decision = {
          admitted: rnd(2) === 0,
          remaining: rnd(1_000_001),
          retryAfterMs: rnd(8.64e13),
          resetMs: rnd(8.64e13),
          policy: { refill: 1 + rnd(1e9), windowMs: 1 + rnd(86_400_000), burst: 1 + rnd(1e6) },
          duplicate: false,
        }
        // Keys and ids whose concatenations collide without the length prefix.
        const entry: DedupEntry = { key: `k:${rnd(50)}`, requestId: `${rnd(50)}:r${rnd(200)}`, stamp: now, seq, decision }
        const id = idOf(entry.key, entry.requestId)
        if (!ref.has(id)) ref.set(id, entry)
        table.remember(entry)
      } else if (op < 9) {
        const key = `k:${rnd(50)}`
        const requestId = `${rnd(50)}:r${rnd(200)}`
        const want = ref.get(idOf(key, requestId))?.decision
        const got = table.get(key, requestId)
        if (JSON.stringify(got) !== JSON.stringify(want)) bad = `step ${step}: get(${key}, ${requestId})`
      } else {
        now += burst ? rnd(2) : rnd(400)
        for (const [id, e] of ref) {
          if (now - e.stamp <= ttl || seq - e.seq < minApplies) break
          ref.delete(id)
        }
        table.expire(now, seq)
      }
      maxSize = Math.max(maxSize, ref.size)
      if (bad === '' && (table.size !== ref.size || step % 1_999 === 0)) {
        const got = [...table.entries()].map(show).join()
        if (got !== [...ref.values()].map(show).join()) bad = `step ${step}: entries differ`
        const rows = table.rows()
        const copied = Array.from({ length: rows.count }, (_, i) => show(rows.entry(i))).join()
        if (copied !== got) bad = `step ${step}: rows() differ from entries()`
      }
    }
    t.equal(bad, '', `seed ${seed} (minApplies ${minApplies}): max size ${maxSize}`)
    t.ok(maxSize > 2_048, 'the ring grew past its initial capacity at least twice')
  }
})

t.test('rows() is a copy: later remembers and expiries do not reach it', async (t) => {
  const table = new DedupTable(10)
  const decision: Decision = { admitted: true, remaining: 1, retryAfterMs: 0, resetMs: 5, policy: { refill: 1, windowMs: 1000, burst: 2 }, duplicate: false }
  table.remember({ key: 'a', requestId: 'r', stamp: 100, seq: 1, decision })
  const rows = table.rows()
  table.remember({ key: 'b', requestId: 'r', stamp: 200, seq: 2, decision })
  table.expire(200, 2)
  t.equal(table.size, 1)
  t.equal(rows.count, 1)
  t.same(rows.entry(0), { key: 'a', requestId: 'r', stamp: 100, seq: 1, decision })
})
