// Pure analysis of the nodes' round traces (src/node/round-trace-file.ts):
// each append the leader sent a follower, followed through the follower's
// receipt, synced write and answer back to the leader. No I/O here.
import { medianOfSorted, percentile, round3 } from './stats.js'

export interface TraceEvent {
  /** Milliseconds on the host's monotonic clock (all nodes share it on one machine). */
  readonly t: number
  readonly event: string
  /** The other end of a message, '' for a local step. */
  readonly peer: string
  readonly index: number
}

/** One trace file's lines (`<ns> <event> <peer or -> <index>`); malformed lines are skipped. */
export function parseTrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = []
  for (const line of text.split('\n')) {
    const [ns, event, peer, index] = line.split(' ')
    if (ns === undefined || event === undefined || peer === undefined || index === undefined || !/^\d+$/.test(ns)) continue
    out.push({ t: Number(BigInt(ns) / 1000n) / 1000, event, peer: peer === '-' ? '' : peer, index: Number(index) })
  }
  // GC pauses are written at their start, after later events; the analyses search by time.
  return out.sort((a, b) => a.t - b.t)
}

export interface StageStats {
  readonly n: number
  readonly p50_ms: number
  readonly p90_ms: number
  readonly mean_ms: number
}

/** The stages of a round to one follower, each from the end of the one before. */
export const ROUND_STAGES = ['to_follower', 'queued', 'write', 'answer', 'to_leader', 'round'] as const
export type RoundStage = (typeof ROUND_STAGES)[number]

/**
 * A synced write split by the log store's own events: until it handed the
 * batch to LevelDB, LevelDB's synced write (the thread-pool hand-off, the
 * write and the fdatasync), and from its return until the driver heard of it.
 */
export const WRITE_PARTS = ['to_leveldb', 'in_leveldb', 'from_leveldb'] as const
export type WritePart = (typeof WRITE_PARTS)[number]

export interface FollowerRounds {
  readonly follower: string
  /** Appends with entries the leader sent it in the window, and how many were followed to their answer. */
  readonly sent: number
  readonly matched: number
  readonly stages: Record<RoundStage, StageStats>
  /** The followed writes split into parts (n 0 when the trace holds no store events). */
  readonly write_parts: Record<WritePart, StageStats>
  /** From each of its answers until the leader's next append to it (a spare waits for a batch). */
  readonly resend: StageStats
}

export interface RoundsReport {
  readonly leader: string
  readonly window_ms: number
  readonly followers: FollowerRounds[]
  /** The leader's own synced writes in the window. */
  readonly leader_write: StageStats
  readonly leader_write_parts: Record<WritePart, StageStats>
  /** What the leader heard last before each apply: its own write, or which follower's answer. */
  readonly commit_after: Record<string, number>
  /** For applies that came right after the leader's own write: how long after the last follower answer before it. */
  readonly own_write_wait: StageStats
}

export function stageStats(values: readonly number[]): StageStats {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    n: sorted.length,
    p50_ms: sorted.length === 0 ? Number.NaN : round3(medianOfSorted(sorted)),
    p90_ms: sorted.length === 0 ? Number.NaN : round3(percentile(sorted, 90)),
    mean_ms: sorted.length === 0 ? Number.NaN : round3(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  }
}

/** The first event at or after `from` (events sorted by time) that `ok` accepts. */
function firstFrom(events: readonly TraceEvent[], from: number, ok: (e: TraceEvent) => boolean): TraceEvent | undefined {
  let lo = 0
  let hi = events.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((events[mid] as TraceEvent).t < from) lo = mid + 1
    else hi = mid
  }
  for (let i = lo; i < events.length; i++) {
    const e = events[i] as TraceEvent
    if (ok(e)) return e
  }
  return undefined
}

/**
 * Follows every append the leader sent in [from, to] through each follower's
 * trace. An append is matched when the follower received it, a synced write
 * started after that and finished, an answer covering it left, and the
 * leader heard an answer covering it; unmatched ones (lost, or past the end
 * of a trace) are counted in `sent` only.
 */
export function analyzeRounds(
  leader: string,
  traces: ReadonlyMap<string, readonly TraceEvent[]>,
  from: number,
  to: number,
): RoundsReport {
  const mine = traces.get(leader) ?? []
  const inWindow = (e: TraceEvent): boolean => e.t >= from && e.t <= to
  const followers: FollowerRounds[] = []
  for (const [id, theirs] of traces) {
    if (id === leader) continue
    const sent = mine.filter((e) => e.event === 'append_sent' && e.peer === id && inWindow(e))
    const stages: Record<RoundStage, number[]> = { to_follower: [], queued: [], write: [], answer: [], to_leader: [], round: [] }
    const parts = emptyParts()
    let matched = 0
    for (const s of sent) {
      const got = firstFrom(theirs, s.t, (e) => e.event === 'append_received' && e.peer === leader && e.index === s.index)
      if (got === undefined) continue
      const started = firstFrom(theirs, got.t, (e) => e.event === 'write_started' && e.index >= s.index)
      if (started === undefined) continue
      const done = firstFrom(theirs, started.t, (e) => e.event === 'write_done' && e.index === started.index)
      if (done === undefined) continue
      const answered = firstFrom(theirs, done.t, (e) => e.event === 'answer_sent' && e.peer === leader && e.index >= s.index)
      if (answered === undefined) continue
      const heard = firstFrom(mine, answered.t, (e) => e.event === 'answer_received' && e.peer === id && e.index >= s.index)
      if (heard === undefined) continue
      matched++
      stages.to_follower.push(got.t - s.t)
      stages.queued.push(started.t - got.t)
      stages.write.push(done.t - started.t)
      addParts(parts, theirs, started, done)
      stages.answer.push(answered.t - done.t)
      stages.to_leader.push(heard.t - answered.t)
      stages.round.push(heard.t - s.t)
    }
    if (sent.length === 0) continue
    followers.push({
      follower: id,
      sent: sent.length,
      matched,
      stages: Object.fromEntries(ROUND_STAGES.map((k) => [k, stageStats(stages[k])])) as Record<RoundStage, StageStats>,
      write_parts: partStats(parts),
      resend: stageStats(resendGaps(mine, id, inWindow)),
    })
  }
  return {
    leader,
    window_ms: round3(to - from),
    followers,
    ...leaderWrites(mine, inWindow),
    ...commitTriggers(mine, inWindow),
  }
}

function leaderWrites(
  mine: readonly TraceEvent[],
  inWindow: (e: TraceEvent) => boolean,
): { leader_write: StageStats; leader_write_parts: Record<WritePart, StageStats> } {
  const out: number[] = []
  const parts = emptyParts()
  let started: TraceEvent | null = null
  for (const e of mine) {
    if (e.event === 'write_started') started = e
    else if (e.event === 'write_done' && started !== null) {
      if (inWindow(started)) {
        out.push(e.t - started.t)
        addParts(parts, mine, started, e)
      }
      started = null
    }
  }
  return { leader_write: stageStats(out), leader_write_parts: partStats(parts) }
}

function emptyParts(): Record<WritePart, number[]> {
  return { to_leveldb: [], in_leveldb: [], from_leveldb: [] }
}

/** The store's events between a write's start and end (writes on a node never overlap), if it recorded them. */
function addParts(parts: Record<WritePart, number[]>, events: readonly TraceEvent[], started: TraceEvent, done: TraceEvent): void {
  const handed = firstFrom(events, started.t, (e) => e.event === 'batch_handed')
  const synced = handed === undefined ? undefined : firstFrom(events, handed.t, (e) => e.event === 'batch_synced')
  // Events past the write's end belong to a later write.
  if (handed === undefined || synced === undefined || synced.t > done.t) return
  parts.to_leveldb.push(handed.t - started.t)
  parts.in_leveldb.push(synced.t - handed.t)
  parts.from_leveldb.push(done.t - synced.t)
}

function partStats(parts: Record<WritePart, number[]>): Record<WritePart, StageStats> {
  return Object.fromEntries(WRITE_PARTS.map((k) => [k, stageStats(parts[k])])) as Record<WritePart, StageStats>
}

/** An answer from `peer` → the leader's next append to it (the last answer before that append). */
function resendGaps(mine: readonly TraceEvent[], peer: string, inWindow: (e: TraceEvent) => boolean): number[] {
  const out: number[] = []
  let lastAnswer: number | null = null
  for (const e of mine) {
    if (e.peer !== peer) continue
    if (e.event === 'answer_received') lastAnswer = e.t
    else if (e.event === 'append_sent') {
      if (lastAnswer !== null && inWindow(e)) out.push(e.t - lastAnswer)
      lastAnswer = null
    }
  }
  return out
}

function commitTriggers(
  mine: readonly TraceEvent[],
  inWindow: (e: TraceEvent) => boolean,
): { commit_after: Record<string, number>; own_write_wait: StageStats } {
  const counts: Record<string, number> = {}
  const waits: number[] = []
  let last: string | null = null
  let lastAnswer: number | null = null
  for (const e of mine) {
    if (e.event === 'write_done') last = 'own write'
    else if (e.event === 'answer_received') {
      last = `answer from ${e.peer}`
      lastAnswer = e.t
    } else if (e.event === 'applied' && inWindow(e) && last !== null) {
      counts[last] = (counts[last] ?? 0) + 1
      if (last === 'own write' && lastAnswer !== null) waits.push(e.t - lastAnswer)
      last = null
    }
  }
  return { commit_after: counts, own_write_wait: stageStats(waits) }
}

/** A table of the stages per follower, then the leader's own figures. */
export function formatRounds(r: RoundsReport): string {
  const f = (s: StageStats): string => `${s.p50_ms.toFixed(3).padStart(7)} ${s.p90_ms.toFixed(3).padStart(7)} ${s.mean_ms.toFixed(3).padStart(7)}`
  const lines: string[] = []
  for (const fr of r.followers) {
    lines.push(`leader ${r.leader} → ${fr.follower}: ${fr.sent} appends with entries, ${fr.matched} followed to their answer`)
    lines.push(`  ${'stage'.padEnd(12)}  p50 ms  p90 ms mean ms`)
    for (const k of ROUND_STAGES) {
      lines.push(`  ${k.padEnd(12)} ${f(fr.stages[k])}`)
      if (k === 'write') lines.push(...partLines(fr.write_parts, f))
    }
    lines.push(`  ${'then resent'.padEnd(12)} ${f(fr.resend)}  (its answer → the leader's next append to it)`)
  }
  lines.push(`leader's own synced write      ${f(r.leader_write)}  (${r.leader_write.n} writes)`)
  lines.push(...partLines(r.leader_write_parts, f))
  lines.push(`applies came right after: ${Object.entries(r.commit_after).map(([k, n]) => `${k} ${n}`).join(', ')}`)
  lines.push(`own write last: apply after the last answer ${f(r.own_write_wait)}`)
  return lines.join('\n')
}

/** The parts of a write, indented under it; none when the trace had no store events. */
function partLines(parts: Record<WritePart, StageStats>, f: (s: StageStats) => string): string[] {
  if (parts.in_leveldb.n === 0) return []
  return WRITE_PARTS.map((k) => `   ${k.padEnd(12)}${f(parts[k])}`)
}
