// The KeyQueue against a Map (whose insertion order is the queue) under
// random appends, removes and moves: same keys, same slots found, same order,
// through growth of the slots and the table, byte repacking, wide keys and
// probe chains that wrap around the end of the table.
import t, { type Test } from 'tap'
import { KeyQueue, keyHash } from '../../src/ratelimit/key-queue.js'
import { mulberry32 } from '../support/prng.js'

type Rnd = (n: number) => number

function rndOf(seed: number): Rnd {
  const next = mulberry32(seed)
  return (n) => Math.floor(next() * n)
}

/** Reference: key -> slot in queue order (Map insertion order, delete + set moves to the back). */
class RefQueue {
  readonly map = new Map<string, number>()
  append(key: string, slot: number): void {
    this.map.set(key, slot)
  }
  remove(key: string): void {
    this.map.delete(key)
  }
  moveToBack(key: string): void {
    const slot = this.map.get(key) as number
    this.map.delete(key)
    this.map.set(key, slot)
  }
}

/** A key for a failure message, cut short (some test keys are 5,000 units long). */
function show(key: string): string {
  const text = JSON.stringify(key)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

function queueOrder(q: KeyQueue): [string, number][] {
  const out: [string, number][] = []
  for (let s = q.oldest(); s >= 0; s = q.after(s)) out.push([q.keyOf(s), s])
  return out
}

/** Every key in the pool is found exactly where the reference says, and the queue reads back in order. */
function agrees(t: Test, q: KeyQueue, ref: RefQueue, pool: readonly string[], what: string): boolean {
  for (const key of pool) {
    const want = ref.map.get(key) ?? -1
    const got = q.find(key)
    if (got !== want) {
      t.fail(`${what}: find(${show(key)}) = ${got}, want ${want}`)
      return false
    }
  }
  if (q.size !== ref.map.size) {
    t.fail(`${what}: size ${q.size}, want ${ref.map.size}`)
    return false
  }
  const order = queueOrder(q)
  const want = [...ref.map.entries()]
  if (JSON.stringify(order) !== JSON.stringify(want)) {
    t.fail(`${what}: queue order differs`)
    return false
  }
  return true
}

function run(t: Test, seed: number, pool: readonly string[], steps: number, hashSeed: number): void {
  const rnd = rndOf(seed)
  const q = new KeyQueue(hashSeed)
  const ref = new RefQueue()
  // Phases that favour growth, then shrinking, so free slots and byte garbage pile up and get reused.
  let appendChance = 70
  let maxSize = 0
  for (let step = 0; step < steps; step++) {
    if (step % 700 === 0) appendChance = [20, 50, 70, 95][rnd(4)] as number
    const key = pool[rnd(pool.length)] as string
    const slot = q.find(key)
    let what: string
    if (slot < 0) {
      if (rnd(100) >= appendChance) continue
      ref.append(key, q.append(key))
      what = `append ${show(key)}`
    } else if (rnd(100) < 100 - appendChance) {
      q.remove(slot)
      ref.remove(key)
      what = `remove ${show(key)}`
    } else {
      q.moveToBack(slot)
      ref.moveToBack(key)
      what = `move ${show(key)}`
    }
    maxSize = Math.max(maxSize, q.size)
    if (step % 97 === 0 && !agrees(t, q, ref, pool, `step ${step} (${what})`)) return
  }
  t.ok(agrees(t, q, ref, pool, 'at the end'), `${steps} steps, up to ${maxSize} keys held, ${q.size} at the end`)
}

t.test('agrees with a Map over random operations on narrow keys', async (t) => {
  const pool = Array.from({ length: 3000 }, (_, i) => `client-${i}`)
  for (const seed of [1, 2, 3]) run(t, seed, pool, 30_000, seed * 7919)
})

t.test('wide keys, lone surrogates, long keys and byte-alike keys of the other form stay distinct', async (t) => {
  const pool = [
    ...Array.from({ length: 400 }, (_, i) => `ü-${i}`), // narrow: ü is 0xfc
    ...Array.from({ length: 400 }, (_, i) => `Ā-${i}`), // wide
    ...Array.from({ length: 100 }, (_, i) => `\ud83d\ude00${i}`), // a surrogate pair
    ...Array.from({ length: 50 }, (_, i) => `\ud800${i}`), // a lone surrogate
    ...Array.from({ length: 30 }, (_, i) => `${'x'.repeat(5000 + i)}`), // beyond one decode chunk
    ...Array.from({ length: 30 }, (_, i) => `${'\u4e00'.repeat(4500 + i)}`),
    // Narrow "\x00\x01" is the bytes 00 01, as is wide "\u0100": equal bytes, different keys.
    '\x00\x01',
    '\u0100',
    '\x00',
  ]
  for (const seed of [4, 5]) run(t, seed, pool, 20_000, seed)
  const q = new KeyQueue()
  q.append('\x00\x01')
  t.equal(q.find('\u0100'), -1, 'a wide key never equals a narrow one with the same bytes')
  q.append('\u0100')
  t.strictSame(queueOrder(q).map(([k]) => k), ['\x00\x01', '\u0100'])
})

/** Keys whose hash puts them in the last `span` positions of a table of `size`, so their probe chains wrap. */
function keysHomedNearTheEnd(size: number, span: number, count: number, seed: number): string[] {
  const out: string[] = []
  for (let i = 0; out.length < count; i++) {
    const key = `w${i}`
    if ((keyHash(key, seed) & (size - 1)) >= size - span) out.push(key)
  }
  return out
}

t.test('long collision chains that wrap around the table end survive removals (backward shift)', async (t) => {
  // The table starts at 2048 positions and grows once 1024 keys are held;
  // 600 keys keep it at 2048, all homed in its last 8 positions.
  const pool = keysHomedNearTheEnd(2048, 8, 600, 11)
  for (const seed of [6, 7, 8]) run(t, seed, pool, 15_000, 11)
})

t.test('the hash seed changes where keys go, not what the queue holds', async (t) => {
  const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`)
  const a = new KeyQueue(1)
  const b = new KeyQueue(2)
  for (const k of keys) {
    a.append(k)
    b.append(k)
  }
  for (let i = 0; i < keys.length; i += 3) {
    a.remove(a.find(keys[i] as string))
    b.remove(b.find(keys[i] as string))
  }
  t.strictSame(queueOrder(a).map(([k]) => k), queueOrder(b).map(([k]) => k))
  t.not(keyHash('k1', 1), keyHash('k1', 2), 'different seeds, different hashes')
})
