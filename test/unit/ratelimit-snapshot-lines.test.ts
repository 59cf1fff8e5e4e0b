// An image is a header line and lines of rows. restoreInSlices decodes a line
// per slice and must build exactly the machine restore() builds, whatever the
// rows per line or the keys' characters; version-2 images (one JSON object,
// in any layout) still load.
import t, { type Test } from 'tap'
import { RateLimitStateMachine, type StateMachineOptions } from '../../src/ratelimit/state-machine.js'
import { workload } from '../support/ratelimit-workload.js'

const OPTS: StateMachineOptions = { sweepPerApply: 2, dedupTtlMs: 30_000, dedupMinApplies: 500 }

async function imageOf(m: RateLimitStateMachine, rowsPerLine?: number): Promise<string> {
  const lines: string[] = []
  for await (const line of m.snapshotLines(async () => {}, rowsPerLine)) lines.push(line)
  return lines.join('\n')
}

async function sameAsRestore(t: Test, image: string, what: string): Promise<{ m: RateLimitStateMachine; pauses: number }> {
  const want = RateLimitStateMachine.restore(image, OPTS)
  let pauses = 0
  const m = await RateLimitStateMachine.restoreInSlices(image, async () => void pauses++, OPTS)
  t.equal(m.snapshot(), want.snapshot(), `${what}: same image`)
  t.equal(m.stateHash(), want.stateHash(), `${what}: same hash`)
  return { m, pauses }
}

t.test('any rows per line: the same machine, one pause between row lines', async (t) => {
  const m = new RateLimitStateMachine(OPTS)
  for (const c of workload(5, 6_000)) m.apply(c)
  t.ok(m.size > 1_000 && m.dedupSize > 100, `a real state: ${m.size} buckets, ${m.dedupSize} request ids`)
  for (const rows of [1, 7, 500, 1_000_000]) {
    const image = await imageOf(m, rows)
    const lines = image.split('\n')
    t.equal(lines.length, 1 + Math.ceil(m.size / rows) + Math.ceil(m.dedupSize / rows), `${rows} rows per line: header and row lines`)
    for (const line of lines) JSON.parse(line)
    const { m: restored, pauses } = await sameAsRestore(t, image, `${rows} rows per line`)
    t.equal(pauses, lines.length - 2, `${rows} rows per line: one pause between row lines`)
    t.equal(restored.snapshot(), m.snapshot(), `${rows} rows per line: the original state`)
  }
})

t.test('the same future after restoring in slices', async (t) => {
  const cmds = workload(6, 8_000)
  const a = new RateLimitStateMachine(OPTS)
  for (const c of cmds.slice(0, 4_000)) a.apply(c)
  const { m: b } = await sameAsRestore(t, await imageOf(a, 333), '333 rows per line')
  const rest = cmds.slice(4_000)
  t.same(rest.map((c) => b.apply(c)), rest.map((c) => a.apply(c)))
  t.equal(b.stateHash(), a.stateHash())
})

t.test('keys and request ids holding brackets, quotes, escapes and newlines', async (t) => {
  const policy = { refill: 1, windowMs: 86_400_000, burst: 10 }
  const keys = ['a]', '[b', '"c"', 'd\\', '\\"', '],"dedup":[', 'e]]},{"x":[', '\ud800', '😀', 'f\n', '\n', 'g\r\n']
  const m = new RateLimitStateMachine(OPTS)
  keys.forEach((key, i) => m.apply({ key, cost: 1, stamp: 1_700_000_000_000 + i, policy, requestId: `${key}/${i}]"\n` }))
  t.equal(m.size, keys.length)
  for (const rows of [1, 2, 3]) {
    const image = await imageOf(m, rows)
    t.equal(image.split('\n').length, 1 + 2 * Math.ceil(keys.length / rows), 'no newline inside a line')
    const { m: restored } = await sameAsRestore(t, image, `${rows} rows per line`)
    t.equal(restored.snapshot(), m.snapshot())
  }
})

t.test('a version-2 image, in any JSON layout, is decoded in one go with the same result', async (t) => {
  const m = new RateLimitStateMachine(OPTS)
  for (const c of workload(7, 500)) m.apply(c)
  const [head, ...rows] = (await imageOf(m, 10)).split('\n').map((line) => JSON.parse(line) as unknown)
  const h = head as { lastStamp: number; seq: number; buckets: number }
  const all = (rows as unknown[][]).flat()
  const v2 = { v: 2, lastStamp: h.lastStamp, seq: h.seq, buckets: all.slice(0, h.buckets), dedup: all.slice(h.buckets) }
  for (const [what, image] of [
    ['one line', JSON.stringify(v2)],
    ['indented', JSON.stringify(v2, null, 1)],
    ['fields reordered', JSON.stringify({ dedup: v2.dedup, buckets: v2.buckets, seq: v2.seq, lastStamp: v2.lastStamp, v: 2 })],
  ] as const) {
    const { m: restored, pauses } = await sameAsRestore(t, image, what)
    t.equal(pauses, 0, `${what}: one slice`)
    t.equal(restored.snapshot(), m.snapshot(), `${what}: the original state, now written as lines`)
  }
})
