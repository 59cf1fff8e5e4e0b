// The leader's stalls: the trace events they are set against (GC pauses at
// their start, snapshots from the driver), and the analysis that gives each
// stall a cause.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { parseTrace, type TraceEvent } from '../../bench/lib/rounds.js'
import { analyzeStalls, formatStalls, LONGEST_LISTED, STALL_MS } from '../../bench/lib/stalls.js'
import { traceGcPauses } from '../../src/node/gc-trace.js'
import { traceLoopBlocks } from '../../src/node/loop-trace.js'
import { RaftDriver } from '../../src/node/raft-driver.js'
import type { RoundEvent, RoundTracer } from '../../src/node/round-trace.js'
import { RoundTraceFile } from '../../src/node/round-trace-file.js'
import { testTransport } from '../support/driver-transport.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import { bareHooks } from '../support/node-hooks.js'

const ev = (t: number, event: RoundEvent, peer: string, index: number): TraceEvent => ({ t, event, peer, index })

/** Applies on the leader every `step` ms from `from` to `to` (inclusive). */
function appliesEvery(step: number, from: number, to: number): TraceEvent[] {
  const out: TraceEvent[] = []
  for (let at = from; at <= to + 1e-9; at += step) out.push(ev(at, 'applied', '', out.length + 1))
  return out
}

const byTime = (list: TraceEvent[]): TraceEvent[] => list.sort((a, b) => a.t - b.t)

t.test('each stall gets the cause that covered at least half of it', async (t) => {
  // Applies every 1 ms, except five gaps:
  // - 10→22: the leader's loop is held up 11 ms from 10.5 (9 ms of it GC); its write 12→14 ends inside that;
  // - 30→40: follower f's write covers 8 ms, the leader's (loop free) 2;
  // - 50→58: f takes a snapshot, no write is slow;
  // - 70→77: nothing;
  // - 85→95: the leader's write covers 9 ms, 2 of them while its loop was held up.
  const leader = byTime([
    ...appliesEvery(1, 0, 10),
    ...appliesEvery(1, 22, 30),
    ...appliesEvery(1, 40, 50),
    ...appliesEvery(1, 58, 70),
    ...appliesEvery(1, 77, 85),
    ...appliesEvery(1, 95, 100),
    ev(10.5, 'loop_blocked', '', 11_000),
    ev(11, 'gc_major', '', 9_000),
    ev(12, 'batch_handed', '', 0),
    ev(14, 'batch_synced', '', 0),
    ev(31, 'batch_handed', '', 0),
    ev(33, 'batch_synced', '', 0),
    ev(85.5, 'batch_handed', '', 0),
    ev(86, 'loop_blocked', '', 2_000),
    ev(94.5, 'batch_synced', '', 0),
  ])
  const f = [ev(31, 'batch_handed', '', 0), ev(39, 'batch_synced', '', 0), ev(49, 'snapshot_started', '', 9), ev(57, 'snapshot_done', '', 9)]
  const s = [ev(31, 'batch_handed', '', 0), ev(33, 'batch_synced', '', 0)]
  const r = analyzeStalls('l', new Map([['l', leader], ['f', f], ['s', s]]), 0, 100)

  t.equal(r.stalls, 5, `gaps of ${STALL_MS} ms or less are not stalls`)
  t.same(
    r.longest.map((x) => [x.at_ms, x.ms, x.cause]),
    [
      [10, 12, 'leader busy'],
      [30, 10, 'follower sync'],
      [85, 10, 'leader sync'],
      [50, 8, 'snapshot'],
      [70, 7, 'unexplained'],
    ],
    'longest first',
  )
  t.match(r.longest[0], { leader_busy_ms: 11, leader_gc_ms: 9, leader_sync_ms: 0, follower_sync_ms: 0, snapshot_ms: 0 }, 'a write that ends inside a blocked turn is not counted as the leader\'s sync')
  t.match(r.longest[1], { follower: 'f', follower_sync_ms: 8, leader_sync_ms: 2 }, 'the follower that covered most of it')
  t.match(r.longest[2], { leader_sync_ms: 7, leader_busy_ms: 2 }, 'the leader\'s write counts only while its loop was free')
  t.match(r.longest[3], { snapshot_ms: 7 }, 'a snapshot is clipped to the stall')
  t.same(r.by_cause, {
    'host kernel thread': { n: 0, ms: 0 },
    'leader busy': { n: 1, ms: 12 },
    'leader sync': { n: 1, ms: 10 },
    'follower sync': { n: 1, ms: 10 },
    snapshot: { n: 1, ms: 8 },
    unexplained: { n: 1, ms: 7 },
  })
  t.same(r.covered_ms, { leader_busy: 13, leader_gc: 9, leader_sync: 9, follower_sync: 8, snapshot: 7 })
  t.equal(r.stall_ms, 47)
  t.equal(r.applies, 59)
  t.same(r.gap, { p50_ms: 1, p90_ms: 1, p99_ms: 12, max_ms: 12 })
  t.match(formatStalls(r), /stalls over 5 ms: 5, 47 ms in all; by cause: leader busy 1 \(12 ms\)/)
  t.match(formatStalls(r), /^covered: leader busy 13 ms \(GC 9\), leader sync 9, follower sync 8, snapshot 7$/m)
  t.match(formatStalls(r), /^ +30\.0 +10\.0 .* follower sync \(f\)$/m)
})

t.test('a host kernel thread that ran through half a stall is its cause, before what it slowed', async (t) => {
  // Applies every 1 ms, except three gaps:
  // - 10→30: the leader's loop is held up all 20 ms, and kdamond ran 12 of them (two spans, 11→17 and 20→26);
  // - 40→50: the loop is held up 9 ms, kdamond ran 4 of them (a span 46→54 that runs past the gap);
  // - 60→70: nothing; kcompactd ran 1 ms in it.
  const leader = byTime([
    ...appliesEvery(1, 0, 10),
    ...appliesEvery(1, 30, 40),
    ...appliesEvery(1, 50, 60),
    ...appliesEvery(1, 70, 100),
    ev(10, 'loop_blocked', '', 20_000),
    ev(41, 'loop_blocked', '', 9_000),
  ])
  const host = [
    { name: 'kdamond.0', spans: [{ from: 11, to: 17, cpu_ms: 5 }, { from: 20, to: 26, cpu_ms: 6 }, { from: 46, to: 54, cpu_ms: 7 }] },
    { name: 'kcompactd0', spans: [{ from: 62, to: 63, cpu_ms: 0.5 }, { from: 120, to: 121, cpu_ms: 1 }] },
  ]
  const r = analyzeStalls('l', new Map([['l', leader]]), 0, 100, host)
  t.same(
    r.longest.map((x) => [x.at_ms, x.cause, x.host_ms, x.host_thread]),
    [
      [10, 'host kernel thread', 12, 'kdamond.0'],
      [40, 'leader busy', 4, 'kdamond.0'],
      [60, 'unexplained', 1, 'kcompactd0'],
    ],
  )
  t.same(r.by_cause['host kernel thread'], { n: 1, ms: 20 })
  t.same(r.host?.threads, [
    { name: 'kdamond.0', runs: 3, cpu_ms: 18, covered_ms: 20 },
    { name: 'kcompactd0', runs: 1, cpu_ms: 0.5, covered_ms: 1 },
  ], 'a run outside the window is not counted')
  t.equal(r.host?.window_share, 0.21, 'what a stall would overlap by chance')
  t.equal(r.host?.stall_share, 0.425, '17 of the 40 ms of stalls')
  const text = formatStalls(r)
  t.match(text, /by cause: host kernel thread 1 \(20 ms\), leader busy 1/)
  t.match(text, /kdamond\.0 ran 3 times, 18 ms of CPU over 20 ms; kcompactd0 ran 1 times.*in 21% of the window and in 42\.5% of the stall time/)
  t.match(text, /^ +10\.0 +20\.0 .* 12\.0  host kernel thread \(kdamond\.0\)$/m)

  const unsampled = analyzeStalls('l', new Map([['l', leader]]), 0, 100)
  t.equal(unsampled.host, undefined, 'no host report when nothing was sampled')
  t.equal(unsampled.longest[0]?.cause, 'leader busy')
  t.notMatch(formatStalls(unsampled), /host kernel thread/, 'nor a cause that could not be seen')
  t.notMatch(formatStalls(unsampled), / host /, 'nor a column of zeros')
})

t.test('a stall that no direct cause covers by half goes to a snapshot before it is called unexplained', async (t) => {
  // A 10 ms gap: the leader's write covers 4 ms, a 3 ms GC pause holds its loop, and a snapshot on the leader covers all of it.
  const leader = byTime([
    ...appliesEvery(1, 0, 5),
    ...appliesEvery(1, 15, 20),
    ev(5.5, 'loop_blocked', '', 3_000),
    ev(5.5, 'gc_minor', '', 3_000),
    ev(9, 'batch_handed', '', 0),
    ev(13, 'batch_synced', '', 0),
    ev(2, 'snapshot_started', '', 3),
    ev(30, 'snapshot_done', '', 3),
  ])
  const r = analyzeStalls('l', new Map([['l', leader]]), 0, 20)
  t.same(r.longest.map((x) => [x.cause, x.leader_busy_ms, x.leader_gc_ms, x.leader_sync_ms, x.snapshot_ms]), [['snapshot', 3, 3, 4, 10]])
})

t.test('only applies inside the window count; the list of longest stalls is capped', async (t) => {
  // Stalls of 6, 7, ... ms, one more than the list holds, then one outside the window.
  const leader: TraceEvent[] = []
  let at = 0
  for (let i = 0; i <= LONGEST_LISTED + 1; i++) {
    leader.push(ev(at, 'applied', '', i))
    at += 6 + i
  }
  leader.push(ev(at + 100, 'applied', '', 99))
  const r = analyzeStalls('l', new Map([['l', leader]]), 0, at)
  t.equal(r.stalls, LONGEST_LISTED + 1)
  t.equal(r.longest.length, LONGEST_LISTED)
  t.same(
    r.longest.map((x) => x.ms),
    Array.from({ length: LONGEST_LISTED }, (_, i) => 6 + LONGEST_LISTED - i),
    'the shortest stall is the one left off',
  )
  t.equal(analyzeStalls('none', new Map(), 0, 10).stalls, 0, 'no trace, no stalls')
})

t.test('trace lines are read back in time order (a GC pause is written at its start, after later events)', async (t) => {
  t.same(parseTrace('3000000 applied - 1\n1000000 gc_minor - 500\n2000000 write_done - 1\n'), [
    ev(1, 'gc_minor', '', 500),
    ev(2, 'write_done', '', 1),
    ev(3, 'applied', '', 1),
  ])
})

t.test('GC pauses land in the trace file at their start, with their length', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gc-trace-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = new RoundTraceFile(path.join(dir, 'n1.trace'), 10_000)
  const stop = traceGcPauses(file)
  const before = file.now()
  // Enough short-lived garbage for several scavenges.
  let keep = 0
  for (let i = 0; i < 2_000_000; i++) keep += { i, s: `x${i}` }.s.length
  const afterLoop = file.now()
  t.ok(keep > 0)
  await new Promise((r) => setTimeout(r, 50)) // the observer is told after the pause
  file.record('applied', '', 1)
  stop()
  file.flush()
  const events = parseTrace(fs.readFileSync(file.file, 'utf8'))
  const gcs = events.filter((e) => e.event === 'gc_minor' || e.event === 'gc_major')
  const marker = events.find((e) => e.event === 'applied')
  t.ok(gcs.some((e) => e.event === 'gc_minor'), `scavenges recorded: ${gcs.length} pauses`)
  t.ok(gcs.every((e) => e.index > 0), 'each with its length in µs')
  const startMs = Number(before / 1000n) / 1000
  const loopEndMs = Number(afterLoop / 1000n) / 1000
  t.ok(gcs.every((e) => e.t >= startMs - 1), 'none before tracing began')
  // The observer can only run after the loop, so a pause stamped when it was heard of would start after it.
  t.ok(gcs.some((e) => e.t <= loopEndMs), 'the loop\'s pauses start inside it')
  t.ok(marker !== undefined && gcs.every((e) => e.t + e.index / 1000 <= marker.t), 'and ends before the next event')
  const count = gcs.length
  for (let i = 0; i < 500_000; i++) keep += { i }.i
  await new Promise((r) => setTimeout(r, 50))
  file.flush()
  t.equal(parseTrace(fs.readFileSync(file.file, 'utf8')).filter((e) => e.event.startsWith('gc_')).length, count, 'nothing more once stopped')
})

t.test('the driver records a snapshot from its start to its compaction, at its index', async (t) => {
  const events: TraceEvent[] = []
  const tracer: RoundTracer = { record: (event, peer, index) => void events.push({ t: performance.now(), event, peer, index }) }
  const transport = testTransport()
  const store = new MemoryLogStore()
  const driver = new RaftDriver({
    raft: { id: 'n1', voters: ['n1'], electionTicks: 10, heartbeatTicks: 2, maxInflight: 8, maxBatchEntries: 64, preVote: true, checkQuorum: true },
    tickMs: 5,
    store,
    transport,
    restored: await store.load(),
    snapshotEntries: 3,
    tracer,
    hooks: bareHooks(),
  })
  driver.start()
  t.teardown(() => driver.stop())
  const deadline = Date.now() + 5_000
  while (driver.core.currentRole !== 'leader') {
    if (Date.now() > deadline) throw new Error('no leader')
    await new Promise((r) => setTimeout(r, 5))
  }
  for (let i = 0; i < 4; i++) {
    driver.core.propose([`c${i}`])
    driver.schedule()
    await new Promise((r) => setTimeout(r, 5))
  }
  while (!events.some((e) => e.event === 'snapshot_done')) {
    if (Date.now() > deadline) throw new Error('no snapshot')
    await new Promise((r) => setTimeout(r, 5))
  }
  const started = events.find((e) => e.event === 'snapshot_started')
  const done = events.find((e) => e.event === 'snapshot_done')
  t.ok(started !== undefined && done !== undefined && started.t <= done.t, 'started, then done')
  t.equal(done?.index, started?.index, 'one snapshot, one index')
  t.ok((started?.index ?? 0) >= 3, `at an applied index past the threshold: ${started?.index}`)
  t.equal((await store.loadSnapshot())?.index, done?.index, 'the one the store now holds')
})

t.test('a turn that holds up the event loop lands in the trace file from when the timer was due', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loop-trace-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = new RoundTraceFile(path.join(dir, 'n1.trace'), 10_000)
  const stop = traceLoopBlocks(file)
  await new Promise((r) => setTimeout(r, 20))
  const blockFrom = file.now()
  while (file.now() - blockFrom < 30_000_000n); // 30 ms without yielding
  const blockTo = file.now()
  await new Promise((r) => setTimeout(r, 20))
  stop()
  file.flush()
  const ms = (ns: bigint): number => Number(ns / 1000n) / 1000
  const blocks = parseTrace(fs.readFileSync(file.file, 'utf8')).filter((e) => e.event === 'loop_blocked')
  const covering = blocks.filter((e) => e.t <= ms(blockFrom) + 2 && e.t + e.index / 1000 >= ms(blockTo) - 2)
  t.equal(covering.length, 1, `one block covers the busy wait: ${JSON.stringify(blocks)}`)
  t.ok((covering[0]?.index ?? 0) >= 28_000, 'about as long as it')
  t.ok(blocks.every((e) => e.index > 2_000), 'nothing under 2 ms is a block')
})
