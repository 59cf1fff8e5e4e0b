// The round trace end to end: the driver records each step of a round, the
// trace file round-trips, and the bench's analysis follows an append from the
// leader through a follower's write and back.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { analyzeRounds, formatRounds, parseTrace, type TraceEvent } from '../../bench/lib/rounds.js'
import { RaftDriver } from '../../src/node/raft-driver.js'
import type { RoundEvent, RoundTracer } from '../../src/node/round-trace.js'
import { RoundTraceFile } from '../../src/node/round-trace-file.js'
import type { Entry, NodeId } from '../../src/raft/types.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import { testTransport } from '../support/driver-transport.js'
import { bareHooks } from '../support/node-hooks.js'

const ev = (t: number, event: RoundEvent, peer: string, index: number): TraceEvent => ({ t, event, peer, index })

t.test('trace lines: nanoseconds to milliseconds, "-" for no peer, malformed lines skipped', async (t) => {
  const events = parseTrace('1500000 append_sent n2 7\n2750000 write_done - 7\nnot a line\n\n12 applied\n')
  t.same(events, [ev(1.5, 'append_sent', 'n2', 7), ev(2.75, 'write_done', '', 7)])
})

t.test('a trace file keeps events up to its capacity and writes lines parseTrace reads back', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'round-trace-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  let now = 1_000_000n
  const file = new RoundTraceFile(path.join(dir, 'nested', 'n1.trace'), 3, () => (now += 500_000n))
  file.record('append_sent', 'n2', 4)
  file.record('write_started', '', 4)
  file.record('answer_received', 'n2', 4)
  file.record('applied', '', 4)
  t.same(file.stats(), { kept: 3, dropped: 1 })
  file.flush()
  t.same(parseTrace(fs.readFileSync(file.file, 'utf8')), [
    ev(1.5, 'append_sent', 'n2', 4),
    ev(2, 'write_started', '', 4),
    ev(2.5, 'answer_received', 'n2', 4),
  ])
  t.equal(RoundTraceFile.inDir(dir, 'node-7').file, path.join(dir, 'node-7.trace'))
})

t.test('analysis: stages of each round, grouped writes, lost appends and the window', async (t) => {
  const leader = [
    ev(0, 'append_sent', 'f', 10),
    ev(0.1, 'write_started', '', 10),
    ev(1.0, 'write_done', '', 10),
    ev(2.0, 'answer_received', 'f', 10),
    ev(2.1, 'applied', '', 10),
    // Two appends to f that its one write covers, then one to s that is lost.
    ev(2.2, 'append_sent', 'f', 11),
    ev(2.3, 'append_sent', 'f', 12),
    ev(2.3, 'append_sent', 's', 12),
    ev(2.4, 'write_started', '', 12),
    ev(4.0, 'answer_received', 'f', 12),
    ev(4.5, 'write_done', '', 12),
    ev(4.6, 'applied', '', 12),
    // Outside the window.
    ev(50, 'append_sent', 'f', 13),
  ]
  const follower = [
    ev(0.4, 'append_received', 'l', 10),
    ev(0.5, 'write_started', '', 10),
    ev(1.5, 'write_done', '', 10),
    ev(1.6, 'answer_sent', 'l', 10),
    ev(2.5, 'append_received', 'l', 11),
    ev(2.6, 'append_received', 'l', 12),
    ev(2.7, 'write_started', '', 12),
    ev(3.7, 'write_done', '', 12),
    ev(3.8, 'answer_sent', 'l', 12),
  ]
  const spare: TraceEvent[] = []
  const r = analyzeRounds('l', new Map([['l', leader], ['f', follower], ['s', spare]]), 0, 10)
  const f = r.followers.find((x) => x.follower === 'f')
  t.ok(f)
  t.equal(f?.sent, 3, 'appends to f in the window')
  t.equal(f?.matched, 3)
  // Rounds: 0→2.0, 2.2→4.0, 2.3→4.0.
  t.same(f?.stages.round, { n: 3, p50_ms: 1.8, p90_ms: 2.0, mean_ms: 1.833 })
  t.same(f?.stages.to_follower, { n: 3, p50_ms: 0.3, p90_ms: 0.4, mean_ms: 0.333 })
  // 11 arrived at 2.5 and 12 at 2.6; both wait for the write that starts at 2.7.
  t.same(f?.stages.queued, { n: 3, p50_ms: 0.1, p90_ms: 0.2, mean_ms: 0.133 })
  t.same(f?.stages.write.p50_ms, 1.0)
  t.same(f?.stages.to_leader, { n: 3, p50_ms: 0.2, p90_ms: 0.4, mean_ms: 0.267 })
  const s = r.followers.find((x) => x.follower === 's')
  t.equal(s?.sent, 1)
  t.equal(s?.matched, 0, 'a lost append is counted, not followed')
  t.equal(s?.stages.round.n, 0)
  t.same(r.leader_write, { n: 2, p50_ms: 1.5, p90_ms: 2.1, mean_ms: 1.5 })
  t.same(r.commit_after, { 'answer from f': 1, 'own write': 1 })
  // Index 12 was applied at 4.6, after the leader's write (4.5); f had answered at 4.0.
  t.same(r.own_write_wait, { n: 1, p50_ms: 0.6, p90_ms: 0.6, mean_ms: 0.6 })
  t.same(f?.resend.n, 1, "only f's first answer came before another append to it")
  t.equal(f?.resend.p50_ms, 0.2)
  t.equal(s?.resend.n, 0)
  t.match(formatRounds(r), /leader l → f: 3 appends with entries, 3 followed to their answer/)
})

t.test('analysis: a write splits at the store events inside it; without them, no parts', async (t) => {
  const leader = [
    ev(0, 'append_sent', 'f', 5),
    ev(0.1, 'write_started', '', 5),
    ev(0.2, 'batch_handed', '', 5),
    ev(0.9, 'batch_synced', '', 5),
    ev(1.2, 'write_done', '', 5),
    ev(2.0, 'answer_received', 'f', 5),
    ev(2.1, 'applied', '', 5),
    ev(3.0, 'append_sent', 'f', 6),
    ev(3.0, 'write_started', '', 6),
    ev(4.0, 'write_done', '', 6),
    // A later write's store events must not be taken for an earlier write without its own.
    ev(5.0, 'write_started', '', 7),
    ev(5.5, 'batch_handed', '', 7),
    ev(6.0, 'batch_synced', '', 7),
    ev(6.1, 'write_done', '', 7),
  ]
  const follower = [
    ev(0.4, 'append_received', 'l', 5),
    ev(0.5, 'write_started', '', 5),
    ev(0.55, 'batch_handed', '', 5),
    ev(1.45, 'batch_synced', '', 5),
    ev(1.5, 'write_done', '', 5),
    ev(1.6, 'answer_sent', 'l', 5),
  ]
  const r = analyzeRounds('l', new Map([['l', leader], ['f', follower]]), 0, 10)
  const f = r.followers[0]
  t.same(f?.write_parts.to_leveldb, { n: 1, p50_ms: 0.05, p90_ms: 0.05, mean_ms: 0.05 })
  t.same(f?.write_parts.in_leveldb, { n: 1, p50_ms: 0.9, p90_ms: 0.9, mean_ms: 0.9 })
  t.same(f?.write_parts.from_leveldb, { n: 1, p50_ms: 0.05, p90_ms: 0.05, mean_ms: 0.05 })
  t.equal(r.leader_write.n, 3)
  t.equal(r.leader_write_parts.in_leveldb.n, 2, 'the write without store events has no parts')
  t.same(r.leader_write_parts.to_leveldb, { n: 2, p50_ms: 0.3, p90_ms: 0.5, mean_ms: 0.3 })
  t.same(r.leader_write_parts.in_leveldb, { n: 2, p50_ms: 0.6, p90_ms: 0.7, mean_ms: 0.6 })
  t.match(formatRounds(r), /^ {3}in_leveldb +0\.900/m)
  t.notMatch(formatRounds(analyzeRounds('l', new Map([['l', leader.filter((e) => !e.event.startsWith('batch_'))]]), 0, 10)), /in_leveldb/)
})

/** Drivers on an in-memory network, each with a tracer that keeps its events in order. */
async function tracedCluster(t: Test): Promise<{ drivers: Map<NodeId, RaftDriver>; events: Map<NodeId, TraceEvent[]>; applied: Map<NodeId, number> }> {
  const ids = ['n1', 'n2', 'n3']
  const drivers = new Map<NodeId, RaftDriver>()
  const events = new Map<NodeId, TraceEvent[]>()
  const applied = new Map<NodeId, number>()
  for (const id of ids) {
    const mine: TraceEvent[] = []
    events.set(id, mine)
    const tracer: RoundTracer = { record: (event, peer, index) => mine.push({ t: performance.now(), event, peer, index }) }
    const transport = testTransport((messages) => {
      for (const m of messages) setImmediate(() => drivers.get(m.to)?.receive([m]))
    })
    const store = new MemoryLogStore()
    const driver = new RaftDriver({
      raft: { id, voters: ids, electionTicks: 10, heartbeatTicks: 2, maxInflight: 8, maxBatchEntries: 64, preVote: true, checkQuorum: true },
      tickMs: 5,
      store,
      transport,
      restored: await store.load(),
      snapshotEntries: 1_000_000,
      tracer,
      hooks: bareHooks({
        onApply: (entries: readonly Entry[]) => {
          applied.set(id, entries.at(-1)?.index ?? applied.get(id) ?? 0)
          return entries.length
        },
      }),
    })
    drivers.set(id, driver)
  }
  for (const d of drivers.values()) d.start()
  t.teardown(async () => {
    for (const d of drivers.values()) await d.stop()
  })
  return { drivers, events, applied }
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

t.test('the driver records every step of a round, in order, and the analysis follows it', async (t) => {
  const { drivers, events, applied } = await tracedCluster(t)
  const leaderOf = (): [NodeId, RaftDriver] | undefined => [...drivers].find(([, d]) => d.core.currentRole === 'leader')
  await until('a leader', () => leaderOf() !== undefined)
  const [leader, driver] = leaderOf() as [NodeId, RaftDriver]
  const from = performance.now()
  const r = driver.core.propose(['x'])
  if (!r.ok) throw new Error('refused')
  driver.schedule()
  const index = r.firstIndex
  await until('applied everywhere', () => [...applied.values()].every((a) => a >= index) && applied.size === 3)

  const mine = events.get(leader) ?? []
  const kinds = (list: readonly TraceEvent[], peer?: string): string[] =>
    list.filter((e) => e.index >= index && (peer === undefined || e.peer === peer || e.peer === '')).map((e) => e.event)
  const followers = [...drivers.keys()].filter((id) => id !== leader)
  for (const f of followers) {
    const theirs = events.get(f) ?? []
    const steps = kinds(theirs, leader)
    // Both followers get the entry: the default config has no spares.
    t.same(steps.slice(0, 4), ['append_received', 'write_started', 'write_done', 'answer_sent'], `${f}: receive, write, then answer`)
    const leaderSteps = kinds(mine, f).filter((e) => e === 'append_sent' || e === 'answer_received')
    t.same(leaderSteps.slice(0, 2), ['append_sent', 'answer_received'], `leader: sent to ${f}, then heard back`)
  }
  t.ok(kinds(mine).includes('write_started') && kinds(mine).includes('write_done'), 'the leader wrote the entry itself')
  const appliedAt = mine.find((e) => e.event === 'applied' && e.index >= index)
  const firstAnswer = mine.find((e) => e.event === 'answer_received' && e.index >= index)
  t.ok(appliedAt !== undefined && firstAnswer !== undefined && appliedAt.t >= firstAnswer.t, 'applied only after a follower answered')

  const report = analyzeRounds(leader, events, from, performance.now())
  for (const f of followers) {
    const fr = report.followers.find((x) => x.follower === f)
    t.ok(fr !== undefined && fr.matched >= 1, `the analysis follows the round to ${f}`)
    t.ok((fr?.stages.round.p50_ms ?? -1) >= (fr?.stages.write.p50_ms ?? Infinity), 'a round lasts at least its write')
  }
})
