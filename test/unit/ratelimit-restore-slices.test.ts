// restoreInSlices must build exactly the machine restore() builds, whatever
// the slice size, the keys' characters, or the JSON layout of the image.
import t, { type Test } from 'tap'
import { RateLimitStateMachine, type StateMachineOptions } from '../../src/ratelimit/state-machine.js'
import { workload } from '../support/ratelimit-workload.js'

const OPTS: StateMachineOptions = { sweepPerApply: 2, dedupTtlMs: 30_000, dedupMinApplies: 500 }

async function inSlices(image: string, sliceRows: number): Promise<{ m: RateLimitStateMachine; pauses: number }> {
  let pauses = 0
  const m = await RateLimitStateMachine.restoreInSlices(image, async () => void pauses++, OPTS, sliceRows)
  return { m, pauses }
}

async function sameAsRestore(t: Test, image: string, sliceRows: number, what: string): Promise<number> {
  const want = RateLimitStateMachine.restore(image, OPTS)
  const { m, pauses } = await inSlices(image, sliceRows)
  t.equal(m.snapshot(), want.snapshot(), `${what}: same image`)
  t.equal(m.stateHash(), want.stateHash(), `${what}: same hash`)
  return pauses
}

t.test('equals restore() for every slice size, and pauses between slices', async (t) => {
  const m = new RateLimitStateMachine(OPTS)
  for (const c of workload(5, 6_000)) m.apply(c)
  const image = m.snapshot()
  t.ok(m.size > 1_000 && m.dedupSize > 100, `a real state: ${m.size} buckets, ${m.dedupSize} request ids`)
  for (const rows of [1, 7, 500, 1_000_000]) {
    const pauses = await sameAsRestore(t, image, rows, `${rows} rows per slice`)
    const between = (n: number): number => Math.max(0, Math.ceil(n / rows) - 1)
    t.equal(pauses, between(m.size) + between(m.dedupSize), `${rows} rows per slice: one pause between slices`)
  }
})

t.test('the same future after restoring in slices', async (t) => {
  const cmds = workload(6, 8_000)
  const a = new RateLimitStateMachine(OPTS)
  for (const c of cmds.slice(0, 4_000)) a.apply(c)
  const { m: b } = await inSlices(a.snapshot(), 333)
  const rest = cmds.slice(4_000)
  t.same(rest.map((c) => b.apply(c)), rest.map((c) => a.apply(c)))
  t.equal(b.stateHash(), a.stateHash())
})

t.test('keys and request ids holding brackets, quotes, escapes and the dedup marker', async (t) => {
  const policy = { refill: 1, windowMs: 86_400_000, burst: 10 }
  const keys = ['a]', '[b', '"c"', 'd\\', '\\"', '],"dedup":[', 'e]]},{"x":[', '\ud800', '😀', 'f\n']
  const m = new RateLimitStateMachine(OPTS)
  keys.forEach((key, i) => m.apply({ key, cost: 1, stamp: 1_700_000_000_000 + i, policy, requestId: `${key}/${i}]"` }))
  t.equal(m.size, keys.length)
  for (const rows of [1, 2, 3]) await sameAsRestore(t, m.snapshot(), rows, `${rows} rows per slice`)
})

t.test('an image in another JSON layout is decoded in one go, with the same result', async (t) => {
  const m = new RateLimitStateMachine(OPTS)
  for (const c of workload(7, 500)) m.apply(c)
  const o = JSON.parse(m.snapshot()) as Record<string, unknown>
  await sameAsRestore(t, JSON.stringify(o, null, 1), 10, 'indented')
  await sameAsRestore(t, JSON.stringify({ dedup: o['dedup'], buckets: o['buckets'], seq: o['seq'], lastStamp: o['lastStamp'], v: o['v'] }), 10, 'fields reordered')
})

t.test('a corrupt row in a later slice is refused like restore() refuses it', async (t) => {
  const m = new RateLimitStateMachine(OPTS)
  for (const c of workload(8, 500)) m.apply(c)
  const image = m.snapshot()
  const cut = image.lastIndexOf('],["day-')
  t.ok(cut > 0)
  for (const broken of [image.slice(0, cut) + '],["day-"' + image.slice(cut + 8), image.slice(0, cut) + ']]' + image.slice(cut + 1), image.slice(0, -1)]) {
    t.throws(() => RateLimitStateMachine.restore(broken, OPTS), { message: /snapshot/ })
    await t.rejects(inSlices(broken, 3), { message: /snapshot/ })
  }
})
