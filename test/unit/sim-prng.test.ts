// The simulator's PRNG: same seed, same stream; forks are independent; ranges hold.
import t from 'tap'
import { Prng } from '../../src/sim/prng.js'

t.test('a seed always gives the same stream, other seeds a different one', async (t) => {
  const a = new Prng(42)
  const b = new Prng(42)
  const c = new Prng(43)
  const sa = Array.from({ length: 50 }, () => a.u32())
  t.same(Array.from({ length: 50 }, () => b.u32()), sa)
  t.not(JSON.stringify(Array.from({ length: 50 }, () => c.u32())), JSON.stringify(sa))
})

t.test('int() stays in range and reaches both ends; float() is in [0, 1)', async (t) => {
  const p = new Prng(7)
  const seen = new Set<number>()
  for (let i = 0; i < 2000; i++) {
    const v = p.int(3, 9)
    if (v < 3 || v > 9 || !Number.isInteger(v)) t.fail(`out of range: ${v}`)
    seen.add(v)
    const f = p.float()
    if (f < 0 || f >= 1) t.fail(`float out of range: ${f}`)
  }
  t.same([...seen].sort(), [3, 4, 5, 6, 7, 8, 9])
})

t.test('forks are deterministic and differ from their parent', async (t) => {
  const f1 = new Prng(1).fork()
  const f2 = new Prng(1).fork()
  t.equal(f1.u32(), f2.u32())
  const parent = new Prng(1)
  const child = parent.fork()
  t.not(child.u32(), parent.u32())
})

t.test('shuffle is a permutation', async (t) => {
  const p = new Prng(3)
  const xs = [1, 2, 3, 4, 5, 6]
  const s = p.shuffle(xs)
  t.same([...s].sort(), xs)
  t.same(xs, [1, 2, 3, 4, 5, 6], 'input untouched')
  t.throws(() => p.pick([]))
})
