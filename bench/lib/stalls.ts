// Pure analysis of the leader's stalls in the round traces: the longest gaps
// between two of its applies. Under a closed-loop load every client waits
// through such a gap, so they, not the typical round, make the p99. Each
// stall is set against what overlapped it: the leader's own event loop held
// up by a long turn (a GC pause is one), LevelDB's synced writes on the
// leader and on each follower (batch_handed → batch_synced), and local
// snapshots on any node, and the host's own kernel threads (host-threads.ts)
// when they were sampled. No I/O here.
import type { ThreadRuns } from './host-threads.js'
import type { TraceEvent } from './rounds.js'
import { percentile, round3 } from './stats.js'

/** A gap between applies longer than this is a stall (a round is 1–3 ms on the bench host). */
export const STALL_MS = 5
/** How many of the longest stalls the report lists. */
export const LONGEST_LISTED = 10

export const STALL_CAUSES = ['host kernel thread', 'leader busy', 'leader sync', 'follower sync', 'snapshot', 'unexplained'] as const
export type StallCause = (typeof STALL_CAUSES)[number]

export interface Stall {
  /** Start, from the window's start. */
  readonly at_ms: number
  readonly ms: number
  /** How much of the stall the leader's event loop was held up by a turn, and how much of that was GC. */
  readonly leader_busy_ms: number
  readonly leader_gc_ms: number
  /** How much of it the leader's synced writes covered while its loop was free to hear of them. */
  readonly leader_sync_ms: number
  /** The follower whose synced writes covered most of it, and how much. */
  readonly follower_sync_ms: number
  readonly follower: string
  /** The most any node's snapshot covered. */
  readonly snapshot_ms: number
  /** How much of it the watched kernel threads of the host ran in, and the one that covered most. */
  readonly host_ms: number
  readonly host_thread: string
  readonly cause: StallCause
}

/** The watched kernel threads over the window: how often they ran, and how much of the window and of the stalls they covered. */
export interface HostReport {
  readonly threads: { readonly name: string; readonly runs: number; readonly cpu_ms: number; readonly covered_ms: number }[]
  /** Share of the window in which any watched thread ran: what a stall would overlap by chance. */
  readonly window_share: number
  /** Share of all stall time in which one ran. */
  readonly stall_share: number
}

export interface StallsReport {
  readonly applies: number
  readonly gap: { readonly p50_ms: number; readonly p90_ms: number; readonly p99_ms: number; readonly max_ms: number }
  readonly stall_threshold_ms: number
  readonly stalls: number
  readonly stall_ms: number
  readonly by_cause: Record<StallCause, { readonly n: number; readonly ms: number }>
  /** Over all stalls, how much each covered (they overlap, so these add up to more than stall_ms). */
  readonly covered_ms: { readonly leader_busy: number; readonly leader_gc: number; readonly leader_sync: number; readonly follower_sync: number; readonly snapshot: number }
  readonly longest: Stall[]
  /** Only when the host's threads were sampled. */
  readonly host?: HostReport
}

interface Span {
  readonly from: number
  readonly to: number
}

/**
 * The leader's gaps between applies in [from, to], and each stall's cause:
 * the host's watched kernel threads if they ran through at least half of it
 * (they held one of the vCPUs every node shares, so they come before what
 * they slowed); else the direct one (the leader's loop held up, its synced write
 * while the loop was free, or a follower's synced write) that covered most of
 * it, if it covered at least half; else a snapshot on any node if one did
 * (its writes queue ahead of the log's); else unexplained.
 */
export function analyzeStalls(
  leader: string,
  traces: ReadonlyMap<string, readonly TraceEvent[]>,
  from: number,
  to: number,
  host?: readonly ThreadRuns[],
): StallsReport {
  const mine = traces.get(leader) ?? []
  const applies = mine.filter((e) => e.event === 'applied' && e.t >= from && e.t <= to).map((e) => e.t)
  const lengthSpans = (kinds: readonly string[]): Span[] => mine.filter((e) => kinds.includes(e.event)).map((e) => ({ from: e.t, to: e.t + e.index / 1000 }))
  const gcs = lengthSpans(['gc_minor', 'gc_major'])
  const blocks = lengthSpans(['loop_blocked'])
  const leaderSyncs = spans(mine, 'batch_handed', 'batch_synced')
  const followerSyncs = [...traces].filter(([id]) => id !== leader).map(([id, events]) => ({ id, syncs: spans(events, 'batch_handed', 'batch_synced') }))
  const snapshots = [...traces.values()].map((events) => spans(events, 'snapshot_started', 'snapshot_done'))
  const hostSpans = union((host ?? []).flatMap((h) => h.spans))

  const gaps: number[] = []
  const stalls: Stall[] = []
  for (let i = 1; i < applies.length; i++) {
    const a = applies[i - 1] as number
    const b = applies[i] as number
    gaps.push(b - a)
    if (b - a <= STALL_MS) continue
    const busy = covered(blocks, a, b)
    const own = covered(leaderSyncs, a, b) - coveredBoth(leaderSyncs, blocks, a, b)
    let follower = ''
    let theirs = 0
    for (const f of followerSyncs) {
      const c = covered(f.syncs, a, b)
      if (c > theirs) [follower, theirs] = [f.id, c]
    }
    const snapshot = Math.max(0, ...snapshots.map((s) => covered(s, a, b)))
    let hostThread = ''
    let hostMost = 0
    for (const h of host ?? []) {
      const c = covered(h.spans, a, b)
      if (c > hostMost) [hostThread, hostMost] = [h.name, c]
    }
    const anyHost = covered(hostSpans, a, b)
    stalls.push({
      at_ms: round3(a - from),
      ms: round3(b - a),
      leader_busy_ms: round3(busy),
      leader_gc_ms: round3(covered(gcs, a, b)),
      leader_sync_ms: round3(own),
      follower_sync_ms: round3(theirs),
      follower,
      snapshot_ms: round3(snapshot),
      host_ms: round3(anyHost),
      host_thread: hostThread,
      cause: anyHost >= (b - a) / 2 ? 'host kernel thread' : causeOf(b - a, busy, own, theirs, snapshot),
    })
  }
  const sorted = [...gaps].sort((x, y) => x - y)
  const byCause = Object.fromEntries(STALL_CAUSES.map((c) => [c, { n: 0, ms: 0 }])) as Record<StallCause, { n: number; ms: number }>
  for (const s of stalls) {
    byCause[s.cause].n++
    byCause[s.cause].ms = round3(byCause[s.cause].ms + s.ms)
  }
  const total = (pick: (s: Stall) => number): number => round3(stalls.reduce((sum, s) => sum + pick(s), 0))
  return {
    applies: applies.length,
    gap: {
      p50_ms: round3(percentile(sorted, 50)),
      p90_ms: round3(percentile(sorted, 90)),
      p99_ms: round3(percentile(sorted, 99)),
      max_ms: round3(sorted.at(-1) ?? Number.NaN),
    },
    stall_threshold_ms: STALL_MS,
    stalls: stalls.length,
    stall_ms: total((s) => s.ms),
    by_cause: byCause,
    covered_ms: {
      leader_busy: total((s) => s.leader_busy_ms),
      leader_gc: total((s) => s.leader_gc_ms),
      leader_sync: total((s) => s.leader_sync_ms),
      follower_sync: total((s) => s.follower_sync_ms),
      snapshot: total((s) => s.snapshot_ms),
    },
    longest: stalls.sort((x, y) => y.ms - x.ms).slice(0, LONGEST_LISTED),
    ...(host === undefined ? {} : { host: hostReport(host, hostSpans, stalls, from, to) }),
  }
}

function hostReport(host: readonly ThreadRuns[], any: readonly Span[], stalls: readonly Stall[], from: number, to: number): HostReport {
  const stallMs = stalls.reduce((sum, s) => sum + s.ms, 0)
  const hostMs = stalls.reduce((sum, s) => sum + s.host_ms, 0)
  return {
    threads: host.map((h) => {
      const inWindow = h.spans.filter((s) => s.to > from && s.from < to)
      return {
        name: h.name,
        runs: inWindow.length,
        cpu_ms: round3(inWindow.reduce((sum, s) => sum + s.cpu_ms, 0)),
        covered_ms: round3(covered(inWindow, from, to)),
      }
    }),
    window_share: to > from ? round3(covered(any, from, to) / (to - from)) : 0,
    stall_share: stallMs > 0 ? round3(hostMs / stallMs) : 0,
  }
}

/** The same stretches with overlaps merged, in time order. */
function union(list: readonly Span[]): Span[] {
  const out: Span[] = []
  for (const s of [...list].sort((x, y) => x.from - y.from)) {
    const last = out.at(-1)
    if (last !== undefined && s.from <= last.to) out[out.length - 1] = { from: last.from, to: Math.max(last.to, s.to) }
    else out.push({ from: s.from, to: s.to })
  }
  return out
}

function causeOf(ms: number, busy: number, own: number, theirs: number, snapshot: number): StallCause {
  const direct: [StallCause, number][] = [
    ['leader busy', busy],
    ['leader sync', own],
    ['follower sync', theirs],
  ]
  const [cause, most] = direct.reduce((best, d) => (d[1] > best[1] ? d : best))
  if (most >= ms / 2) return cause
  return snapshot >= ms / 2 ? 'snapshot' : 'unexplained'
}

/** Each `start` event paired with the next `end` event on the same node (they never nest). */
function spans(events: readonly TraceEvent[], start: string, end: string): Span[] {
  const out: Span[] = []
  let open: number | null = null
  for (const e of events) {
    if (e.event === start) open = e.t
    else if (e.event === end && open !== null) {
      out.push({ from: open, to: e.t })
      open = null
    }
  }
  return out
}

/** How much of [a, b] spans of both lists cover at once (neither list overlaps itself). */
function coveredBoth(x: readonly Span[], y: readonly Span[], a: number, b: number): number {
  let sum = 0
  for (const s of x) {
    if (s.to <= a || s.from >= b) continue
    for (const u of y) {
      const lo = Math.max(s.from, u.from, a)
      const hi = Math.min(s.to, u.to, b)
      if (hi > lo) sum += hi - lo
    }
  }
  return sum
}

/** How much of [a, b] the spans cover (they do not overlap each other). */
function covered(list: readonly Span[], a: number, b: number): number {
  let sum = 0
  for (const s of list) if (s.to > a && s.from < b) sum += Math.min(s.to, b) - Math.max(s.from, a)
  return sum
}

const pct = (share: number): string => `${Math.round(share * 1000) / 10}%`

/** The gap distribution, the stall time by cause, the host's threads, then the longest stalls. */
export function formatStalls(r: StallsReport): string {
  const c = r.covered_ms
  // Nothing about the host unless it was sampled: it would read as zero.
  const sampled = r.host !== undefined
  const lines = [
    `leader's gaps between applies (${r.applies} applies): p50 ${r.gap.p50_ms} ms, p90 ${r.gap.p90_ms}, p99 ${r.gap.p99_ms}, max ${r.gap.max_ms}`,
    `stalls over ${r.stall_threshold_ms} ms: ${r.stalls}, ${r.stall_ms} ms in all; by cause: ${STALL_CAUSES.filter((k) => k !== 'host kernel thread' || sampled).map((k) => `${k} ${r.by_cause[k].n} (${r.by_cause[k].ms} ms)`).join(', ')}`,
    `covered: leader busy ${c.leader_busy} ms (GC ${c.leader_gc}), leader sync ${c.leader_sync}, follower sync ${c.follower_sync}, snapshot ${c.snapshot}`,
  ]
  if (r.host !== undefined) {
    const h = r.host
    const threads = h.threads.map((x) => `${x.name} ran ${x.runs} times, ${x.cpu_ms} ms of CPU over ${x.covered_ms} ms`).join('; ')
    lines.push(`host kernel threads: ${threads || 'none watched'}; they ran in ${pct(h.window_share)} of the window and in ${pct(h.stall_share)} of the stall time`)
  }
  if (r.longest.length > 0) lines.push(`  ${'at ms'.padStart(8)} ${'ms'.padStart(6)}  busy    gc  lsync  fsync  snap  ${sampled ? 'host  ' : ''}cause`)
  const n = (v: number, w: number): string => v.toFixed(1).padStart(w)
  for (const s of r.longest) {
    const cells = [n(s.at_ms, 8), n(s.ms, 6), n(s.leader_busy_ms, 5), n(s.leader_gc_ms, 5), n(s.leader_sync_ms, 6), n(s.follower_sync_ms, 6), n(s.snapshot_ms, 5)]
    if (sampled) cells.push(n(s.host_ms, 5))
    const who = s.cause === 'follower sync' ? ` (${s.follower})` : s.cause === 'host kernel thread' ? ` (${s.host_thread})` : ''
    lines.push(`  ${cells.join(' ')}  ${s.cause}${who}`)
  }
  return lines.join('\n')
}
