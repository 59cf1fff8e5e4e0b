// Prometheus metrics of one public app. Each app owns its Registry (never the
// prom-client global), so tests can build many apps in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { RateLimiterService } from '../service.js'

export interface Metrics {
  readonly registry: Registry
  /** One finished HTTP request: `route` is the route template, `outcome` admitted|rejected|degraded|ok|CODE. */
  recordRequest(route: string, outcome: string, durationSec: number): void
}

export interface MetricsOptions {
  /** Also export process/runtime metrics (CPU, memory, event-loop lag). Off in tests. */
  readonly processMetrics?: boolean
}

// Raft commits take a few ms on a healthy LAN; the tail up to the request deadline matters for alerts.
const LATENCY_BUCKETS_SEC = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

export function createMetrics(service: Pick<RateLimiterService, 'status'>, options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  const registers = [registry]
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry })

  const requests = new Counter({
    name: 'ratelimiter_requests_total',
    help: 'HTTP requests by route and outcome (admitted, rejected, degraded, ok, or an error code)',
    labelNames: ['route', 'outcome'] as const,
    registers,
  })
  const duration = new Histogram({
    name: 'ratelimiter_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS_SEC,
    registers,
  })

  // Read at scrape time so the values are never stale and nothing runs between scrapes.
  const statusGauge = (name: string, help: string, read: (s: ReturnType<typeof service.status>) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(service.status()))
      },
    })
  }
  statusGauge('ratelimiter_raft_term', 'current Raft term of this node', (s) => s.raft.term)
  statusGauge('ratelimiter_raft_is_leader', '1 when this node is the Raft leader', (s) => (s.raft.role === 'leader' ? 1 : 0))
  statusGauge('ratelimiter_raft_commit_index', 'highest log index known committed', (s) => s.raft.commit)
  statusGauge('ratelimiter_raft_applied_index', 'highest log index applied to the buckets', (s) => s.raft.applied)
  statusGauge('ratelimiter_raft_last_index', 'last log index stored on this node', (s) => s.raft.lastIndex)
  statusGauge('ratelimiter_ready', '1 when this node serves rate requests (leader known, log applied)', (s) => (s.ready ? 1 : 0))

  return {
    registry,
    recordRequest(route, outcome, durationSec) {
      requests.inc({ route, outcome })
      duration.observe({ route }, durationSec)
    },
  }
}
