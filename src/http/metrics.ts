// Prometheus metrics of one public app. Each app owns its Registry (never the
// prom-client global), so tests can build many apps in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { RateLimiterService } from '../service.js'
import type { PeerLinkStats } from '../transport/peer-link.js'

export interface Metrics {
  readonly registry: Registry
  /** One finished HTTP request: `route` is the route template, `outcome` admitted|rejected|degraded|ok|CODE. */
  recordRequest(route: string, outcome: string, durationSec: number): void
}

/** What the metrics read of one peer link at scrape time: the transport's own per-peer stats. */
export type PeerLinkCounters = Pick<PeerLinkStats, 'reachable' | 'sentBatches' | 'sentMessages' | 'droppedMessages' | 'streamsOpened' | 'bufferedBytes'>

export interface MetricsOptions {
  /** Also export process/runtime metrics (CPU, memory, event-loop lag). Off in tests. */
  readonly processMetrics?: boolean
  /** The transport's links by peer id; without it no ratelimiter_peer_* series are exported. */
  readonly peerLinks?: () => Readonly<Record<string, PeerLinkCounters>>
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
  new Gauge({
    name: 'ratelimiter_raft_peer_lag_entries',
    help: 'on the leader: log entries each follower has yet to store (last index minus its match index)',
    labelNames: ['peer'] as const,
    registers,
    collect() {
      this.reset() // a follower that left, or a leader that stepped down, leaves no stale series
      const { lastIndex, progress } = service.status().raft
      for (const p of progress) this.set({ peer: p.id }, Math.max(0, lastIndex - p.match))
    },
  })
  const peerLinks = options.peerLinks
  if (peerLinks !== undefined) registerPeerLinkMetrics(registers, peerLinks)

  return {
    registry,
    recordRequest(route, outcome, durationSec) {
      requests.inc({ route, outcome })
      duration.observe({ route }, durationSec)
    },
  }
}

/**
 * Per-peer transport series, read from the links at scrape time. The totals
 * are counters (set to the link's running count), so rate() shows frames and
 * drops per second; a link that closes takes its series with it.
 */
function registerPeerLinkMetrics(registers: Registry[], read: () => Readonly<Record<string, PeerLinkCounters>>): void {
  const perPeer = (kind: 'counter' | 'gauge', name: string, help: string, value: (l: PeerLinkCounters) => number): void => {
    const Metric = kind === 'counter' ? Counter : Gauge
    new Metric({
      name,
      help,
      labelNames: ['peer'] as const,
      registers,
      collect(this: Counter<'peer'> | Gauge<'peer'>) {
        this.reset()
        for (const [peer, link] of Object.entries(read())) this.inc({ peer }, value(link))
      },
    })
  }
  perPeer('gauge', 'ratelimiter_peer_reachable', '1 while the message stream to the peer is open (or not yet failed)', (l) => (l.reachable ? 1 : 0))
  perPeer('counter', 'ratelimiter_peer_frames_sent_total', 'frames (batches of Raft messages and forwards) written to the peer', (l) => l.sentBatches)
  perPeer('counter', 'ratelimiter_peer_messages_sent_total', 'Raft messages written to the peer', (l) => l.sentMessages)
  perPeer('counter', 'ratelimiter_peer_messages_dropped_total', 'Raft messages dropped: no stream open to the peer, or its buffer full', (l) => l.droppedMessages)
  perPeer('counter', 'ratelimiter_peer_streams_opened_total', 'message streams opened to the peer; more than one means it went away and came back', (l) => l.streamsOpened)
  perPeer('gauge', 'ratelimiter_peer_buffered_bytes', 'bytes written to the peer stream that the socket has not taken yet', (l) => l.bufferedBytes)
}
