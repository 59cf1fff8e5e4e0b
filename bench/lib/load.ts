// One autocannon load: fixed duration (or amount), N connections over one or
// several targets, client ids picked round-robin by a shared counter.
// Latencies are recorded here from every response (2xx and 429 alike) at
// full float resolution: autocannon's own histogram keeps whole milliseconds,
// too coarse for a sub-millisecond p50.
import autocannon from 'autocannon'
import { classifyStatuses, percentile, round3, Samples } from './stats.js'

export interface LoadOptions {
  /** Base URLs (http://127.0.0.1:port); connection i goes to urls[i % urls.length]. */
  readonly urls: readonly string[]
  readonly connections: number
  /** Seconds; ignored when `amount` is set. */
  readonly durationSec: number
  /** Stop after this many requests (e.g. to push each of N ids exactly once). */
  readonly amount?: number
  readonly method: 'POST' | 'GET'
  /** Path of request number i (0, 1, 2, ... in send order across all connections). */
  readonly pathFor: (i: number) => string
  /** Told of every response as it arrives, with its latency. */
  readonly onResponse?: (latencyMs: number) => void
}

export interface LoadResult {
  readonly durationSec: number
  readonly responses: number
  /** Responses per second (2xx + 429 + other statuses). */
  readonly rps: number
  readonly ok: number
  readonly limited: number
  readonly non2xx: number
  /** Non-2xx other than 429, plus connection errors and timeouts. */
  readonly errors: number
  readonly transportErrors: number
  readonly timeouts: number
  readonly p50_ms: number
  readonly p90_ms: number
  readonly p99_ms: number
  readonly max_ms: number
  readonly statusCounts: Readonly<Record<string, number>>
}

/** Paths `/rate/increment?client_id=<prefix><i mod ids>` for a round-robin over `ids` ids. */
export function roundRobinPath(route: string, prefix: string, ids: number): (i: number) => string {
  return (i) => `${route}?client_id=${prefix}${i % ids}`
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  let seq = 0
  const latencies = new Samples()
  const statusCounts: Record<string, number> = {}
  const instance = autocannon({
    url: opts.urls.length === 1 ? (opts.urls[0] as string) : [...opts.urls],
    connections: opts.connections,
    ...(opts.amount === undefined ? { duration: opts.durationSec } : { amount: opts.amount }),
    timeout: 10,
    requests: [
      {
        method: opts.method,
        setupRequest: (req) => ({ ...req, method: opts.method, path: opts.pathFor(seq++) }),
      },
    ],
  })
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    latencies.add(responseTimeMs)
    opts.onResponse?.(responseTimeMs)
    const k = String(statusCode)
    statusCounts[k] = (statusCounts[k] ?? 0) + 1
  })
  const started = performance.now()
  const res = await instance
  const wallSec = (performance.now() - started) / 1000
  const durationSec = res.duration > 0 ? res.duration : wallSec
  const transportErrors = res.errors // includes timeouts
  const cls = classifyStatuses(statusCounts, transportErrors)
  const sorted = latencies.sorted()
  return {
    durationSec,
    responses: latencies.length,
    rps: latencies.length / durationSec,
    ok: cls.ok,
    limited: cls.limited,
    non2xx: cls.non2xx,
    errors: cls.errors,
    transportErrors,
    timeouts: res.timeouts,
    p50_ms: round3(percentile(sorted, 50)),
    p90_ms: round3(percentile(sorted, 90)),
    p99_ms: round3(percentile(sorted, 99)),
    max_ms: round3(sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN),
    statusCounts,
  }
}
