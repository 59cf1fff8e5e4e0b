// Operator routes: cluster status, liveness, readiness and Prometheus metrics.
import type { FastifyInstance } from 'fastify'
import { ERRORS } from '../errors.js'
import type { ClusterStatus, RateLimiterService } from '../service.js'
import type { Metrics } from './metrics.js'

/** snake_case wire form of ClusterStatus: what an operator watches during failover. */
export function clusterStatusBody(s: ClusterStatus) {
  const r = s.raft
  return {
    node: s.node,
    role: r.role,
    term: r.term,
    leader: r.leader,
    leader_address: s.leaderAddress,
    ready: s.ready,
    commit_index: r.commit,
    applied_index: r.applied,
    first_index: r.firstIndex,
    last_index: r.lastIndex,
    persisted_index: r.persistedIndex,
    snapshot_index: r.snapshotIndex,
    // The configuration in effect here: the log's latest, committed or not.
    members: r.voters,
    learners: r.learners,
    buckets: s.buckets,
    request_ids: s.requestIds,
    ...(s.stateHash === undefined ? {} : { state_hash: s.stateHash }),
    // Only the leader tracks follower progress; followers report an empty list.
    peers: r.progress.map((p) => ({
      id: p.id,
      match_index: p.match,
      next_index: p.next,
      state: p.state,
      inflight: p.inflight,
      recent_active: p.recentActive,
      ...(p.pendingSnapshot === undefined ? {} : { pending_snapshot: p.pendingSnapshot }),
      ...(p.rejoining === true ? { rejoining: true } : {}),
    })),
  }
}

export function registerOpsRoutes(app: FastifyInstance, service: RateLimiterService, metrics: Metrics): void {
  // ?hash=1 adds the state machine's hash at applied_index (costs a walk over every bucket).
  app.get('/cluster/status', async (request) => {
    const q = request.query as Record<string, unknown> | undefined
    return clusterStatusBody(service.status({ hash: q?.['hash'] === '1' }))
  })

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (request, reply) => {
    if (service.isReady()) return { ready: true }
    request.rlOutcome = 'NOT_READY'
    reply.code(ERRORS.NOT_READY.status).header('Retry-After', ERRORS.NOT_READY.retryAfterSec)
    return { ready: false, error: 'NOT_READY' }
  })

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
}
