// Pure part of `npm run bench:sync`: what one synced write costs when it is
// made on the calling thread, through libuv's threadpool, and through the
// log store (LevelDB), idle and under cluster load. No I/O here.
import { percentile, round3 } from './stats.js'

/** How a probe makes its synced write (bench/sync-probe.ts). */
export const SYNC_MODES = ['inline', 'threadpool', 'store'] as const
export type SyncMode = (typeof SYNC_MODES)[number]

export const SYNC_MODE_MEANING: Readonly<Record<SyncMode, string>> = {
  inline: 'one write to an O_DSYNC file on the calling thread (redis-server with appendfsync always syncs inline too)',
  threadpool: 'one write to an O_DSYNC file through the libuv threadpool (one hand-off there and back)',
  store: "LevelLogStore.save: one LevelDB chained batch with sync: true, the node's own write",
}

export interface SyncSummary {
  readonly mode: SyncMode
  readonly writes: number
  readonly p50_ms: number
  readonly p90_ms: number
  readonly p99_ms: number
}

export interface SyncRow extends SyncSummary {
  /** p50 over the inline p50 of the same phase; null without an inline probe. */
  readonly x_inline_p50: number | null
}

/** Percentiles of one probe's write latencies (ms, any order). */
export function summarizeSync(mode: SyncMode, latenciesMs: readonly number[]): SyncSummary {
  if (latenciesMs.length === 0) throw new Error(`the ${mode} probe made no write`)
  const sorted = Float64Array.from(latenciesMs).sort()
  return {
    mode,
    writes: sorted.length,
    p50_ms: round3(percentile(sorted, 50)),
    p90_ms: round3(percentile(sorted, 90)),
    p99_ms: round3(percentile(sorted, 99)),
  }
}

/** Each probe with its p50 as a multiple of the inline probe's. */
export function withInlineRatio(summaries: readonly SyncSummary[]): SyncRow[] {
  const inline = summaries.find((s) => s.mode === 'inline')
  return summaries.map((s) => ({
    ...s,
    x_inline_p50: inline === undefined || inline.p50_ms <= 0 ? null : Math.round((s.p50_ms / inline.p50_ms) * 100) / 100,
  }))
}

/** The probes of one phase as a markdown table. */
export function formatSyncTable(rows: readonly SyncRow[]): string {
  const lines = ['| write      | writes | p50 ms | p90 ms | p99 ms | x inline p50 |', '|------------|-------:|-------:|-------:|-------:|-------------:|']
  for (const r of rows) {
    const ratio = r.x_inline_p50 === null ? '-' : r.x_inline_p50.toFixed(2)
    lines.push(`| ${r.mode.padEnd(10)} | ${String(r.writes).padStart(6)} | ${r.p50_ms.toFixed(3).padStart(6)} | ${r.p90_ms.toFixed(3).padStart(6)} | ${r.p99_ms.toFixed(3).padStart(6)} | ${ratio.padStart(12)} |`)
  }
  return lines.join('\n')
}

/** Parses a probe's result file: `{"mode":..., "latencies_ms":[...]}`. */
export function parseProbeResult(text: string): { mode: SyncMode; latencies: number[] } {
  const raw = JSON.parse(text) as unknown
  if (typeof raw !== 'object' || raw === null) throw new Error('probe result is not an object')
  const { mode, latencies_ms: latencies } = raw as { mode?: unknown; latencies_ms?: unknown }
  if (!SYNC_MODES.includes(mode as SyncMode)) throw new Error(`probe result has an unknown mode ${JSON.stringify(mode)}`)
  if (!Array.isArray(latencies) || !latencies.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
    throw new Error('probe result latencies_ms must be non-negative numbers')
  }
  return { mode: mode as SyncMode, latencies: latencies as number[] }
}
