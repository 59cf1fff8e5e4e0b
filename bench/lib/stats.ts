// Pure helpers of the benchmark: percentiles, ratios, the results table and
// the failover/loss arithmetic. No I/O here, so unit tests can pin them.

/** A growable buffer of latencies (ms), cheap to append at 20k samples/s. */
export class Samples {
  private data = new Float64Array(1 << 16)
  private n = 0

  add(v: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.n++] = v
  }

  get length(): number {
    return this.n
  }

  /** A sorted copy of what was added. */
  sorted(): Float64Array {
    return this.data.slice(0, this.n).sort()
  }
}

/**
 * Nearest-rank percentile (p in 0..100) of ascending `sorted`; NaN when empty.
 * The smallest value such that at least p% of the samples are <= it.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in 0..100, got ${p}`)
  const rank = Math.max(1, Math.ceil((p / 100) * n))
  return sorted[rank - 1] as number
}

/** Median of any numbers (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  return medianOfSorted([...values].sort((a, b) => a - b))
}

/** The same for values already in ascending order, without sorting them again. */
export function medianOfSorted(s: ArrayLike<number>): number {
  if (s.length === 0) return Number.NaN
  const mid = s.length >> 1
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** Milliseconds kept to the microsecond in results. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}

/** Status-code counts → what the bench reports: 429s apart, every other non-2xx an error. */
export function classifyStatuses(
  statusCounts: Readonly<Record<string, number>>,
  transportErrors: number,
): { ok: number; limited: number; non2xx: number; errors: number } {
  let ok = 0
  let limited = 0
  let non2xx = 0
  for (const [code, count] of Object.entries(statusCounts)) {
    const c = Number(code)
    if (c >= 200 && c < 300) ok += count
    else {
      non2xx += count
      if (c === 429) limited += count
    }
  }
  return { ok, limited, non2xx, errors: non2xx - limited + transportErrors }
}

/** a / b, or null when either is missing or b is not positive. */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null
  return a / b
}

export interface RunRow {
  readonly name: string
  readonly connections: number
  readonly rps: number
  readonly p50_ms: number
  readonly p99_ms: number
  readonly errors: number
  readonly non2xx: number
  readonly limited: number
}

/**
 * One row per system and connection count from several interleaved rounds:
 * the round with the median req/s stands for them (its other fields kept),
 * p50 and p99 are the medians over the rounds, errors and 429s the sums, and
 * `rps_rounds` lists every round's req/s so the spread stays visible.
 */
export function medianOfRounds<R extends RunRow>(runs: readonly R[]): (R & { readonly rps_rounds: number[] })[] {
  const groups = new Map<string, R[]>()
  for (const r of runs) {
    const key = `${r.name}@${r.connections}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [r])
    else g.push(r)
  }
  return [...groups.values()].map((g) => {
    const byRps = [...g].sort((a, b) => a.rps - b.rps)
    const mid = byRps[(byRps.length - 1) >> 1] as R
    return {
      ...mid,
      p50_ms: median(g.map((r) => r.p50_ms)),
      p99_ms: median(g.map((r) => r.p99_ms)),
      errors: g.reduce((a, r) => a + r.errors, 0),
      non2xx: g.reduce((a, r) => a + r.non2xx, 0),
      limited: g.reduce((a, r) => a + r.limited, 0),
      rps_rounds: g.map((r) => r.rps),
    }
  })
}

export interface RatioRow extends RunRow {
  /** rps relative to each baseline run at the same connection count (null: baseline absent). */
  readonly vs: Readonly<Record<string, number | null>>
}

/** Each run's req/s relative to each baseline system at the same connection count. */
export function withRatios(runs: readonly RunRow[], baselines: readonly string[]): RatioRow[] {
  return runs.map((r) => {
    const vs: Record<string, number | null> = {}
    for (const b of baselines) {
      const base = runs.find((x) => x.name === b && x.connections === r.connections)
      vs[b] = ratio(r.rps, base?.rps)
    }
    return { ...r, vs }
  })
}

function fmt(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits)
}

/** A markdown table (it also reads well in a terminal). */
export function formatTable(rows: readonly RatioRow[], baselines: readonly string[]): string {
  const head = ['system', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', '429s', ...baselines.map((b) => `x ${b}`)]
  const body = rows.map((r) => [
    r.name,
    String(r.connections),
    fmt(r.rps, 0),
    fmt(r.p50_ms, 2),
    fmt(r.p99_ms, 2),
    String(r.errors),
    String(r.limited),
    ...baselines.map((b) => fmt(r.vs[b] ?? null, 2)),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(head), rule, ...body.map(line)].join('\n')
}

/**
 * No acknowledged increment lost, none invented: with `acked` increments
 * answered 200 and `unknown` whose outcome the client never learned, the
 * bucket must hold at most burst - acked and at least burst - acked - unknown
 * (refill negligible: the audit policy refills one token a day).
 */
export function auditRemaining(
  burst: number,
  acked: number,
  unknown: number,
  remaining: number,
): { ok: boolean; max: number; min: number } {
  const max = burst - acked
  const min = Math.max(0, burst - acked - unknown)
  return { ok: remaining <= max && remaining >= min, max, min }
}

/** Percent of one core used between two CPU-time readings (seconds) over `wallSec`. */
export function cpuPercent(beforeSec: number, afterSec: number, wallSec: number): number {
  return wallSec > 0 ? ((afterSec - beforeSec) / wallSec) * 100 : Number.NaN
}

/** Context switches of one process, summed over its threads. */
export interface SwitchCounts {
  /** The thread blocked (waiting for I/O, a lock, its event loop's next event). */
  readonly voluntary: number
  /** The scheduler took the core from a runnable thread. */
  readonly involuntary: number
}

/** The two switch counters of one /proc/<pid>/task/<tid>/status text, or null without them. */
export function parseSwitchCounts(status: string): SwitchCounts | null {
  const v = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1]
  const nv = /^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1]
  return v === undefined || nv === undefined ? null : { voluntary: Number(v), involuntary: Number(nv) }
}

/** Switches a request between two readings of one process, or null when either is missing. */
export function switchesPerRequest(before: SwitchCounts | null, after: SwitchCounts | null, requests: number): SwitchCounts | null {
  if (before === null || after === null || !(requests > 0)) return null
  const per = (n: number): number => Math.round((n / requests) * 1000) / 1000
  return { voluntary: per(after.voluntary - before.voluntary), involuntary: per(after.involuntary - before.involuntary) }
}

/** `node-1 0.10+0.02, ..., all 0.41`: voluntary+involuntary a request for each process, then their sum. */
export function formatSwitches(perProcess: Readonly<Record<string, SwitchCounts>>): string {
  const entries = Object.entries(perProcess)
  const total = entries.reduce((n, [, s]) => n + s.voluntary + s.involuntary, 0)
  const each = entries.map(([label, s]) => `${label} ${s.voluntary.toFixed(2)}+${s.involuntary.toFixed(2)}`)
  return [...each, `all ${total.toFixed(2)}`].join(', ')
}

export interface TargetCheck {
  readonly target: string
  /** The measured value (a ratio or milliseconds), null when a run is missing. */
  readonly value: number | null
  readonly ok: boolean | null
}

/** The "done when" lines of issue 4 that one `npm run bench` can decide. */
export function targetChecks(runs: readonly RunRow[], bigConnections = 50): TargetCheck[] {
  const get = (name: string, c: number): RunRow | undefined => runs.find((r) => r.name === name && r.connections === c)
  const atLeast = (target: string, v: number | null, min: number): TargetCheck => ({ target, value: v, ok: v === null ? null : v >= min })
  const atMost = (target: string, v: number | null, max: number): TargetCheck => ({ target, value: v, ok: v === null ? null : v <= max })
  const leader = get('cluster-leader', bigConnections)
  const leader1 = get('cluster-leader', 1)
  const errors = runs.filter((r) => r.name.startsWith('cluster')).reduce((n, r) => n + r.errors, 0)
  const anyCluster = runs.some((r) => r.name.startsWith('cluster'))
  return [
    atLeast(`cluster-leader@${bigConnections} >= 1.0x redis-lua-fsync`, ratio(leader?.rps, get('redis-lua-fsync', bigConnections)?.rps), 1.0),
    atLeast(`cluster-leader@${bigConnections} >= 0.65x inmem`, ratio(leader?.rps, get('inmem', bigConnections)?.rps), 0.65),
    atLeast(`cluster-spread@${bigConnections} >= 0.8x cluster-leader`, ratio(get('cluster-spread', bigConnections)?.rps, leader?.rps), 0.8),
    atMost('cluster-leader@1 p50 <= 1.0 ms', leader1?.p50_ms ?? null, 1.0),
    atMost(`cluster-leader@${bigConnections} p99 <= 15 ms`, leader?.p99_ms ?? null, 15),
    atMost('cluster runs: no errors', anyCluster ? errors : null, 0),
  ]
}

export function formatChecks(checks: readonly TargetCheck[]): string {
  return checks
    .map((c) => {
      const mark = c.ok === null ? 'n/a ' : c.ok ? 'PASS' : 'MISS'
      const v = c.value === null ? '-' : Number.isInteger(c.value) ? String(c.value) : c.value.toFixed(2)
      return `${mark}  ${c.target}  (measured ${v})`
    })
    .join('\n')
}
