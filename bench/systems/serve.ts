// Shared by the single-process comparison servers: they serve the project's
// own public app (src/http/public-app.ts: same routes, validation, headers,
// response schemas and metrics hook as a cluster node), so the only
// difference from a cluster node is the backend behind RateLimiterService.
import { pino } from 'pino'
import { createMetrics } from '../../src/http/metrics.js'
import { buildPublicApp } from '../../src/http/public-app.js'
import type { Policy } from '../../src/ratelimit/index.js'
import type { ClusterStatus, RateLimiterService } from '../../src/service.js'
import { RateLimiterError } from '../../src/errors.js'

/** The policy from the same variables a cluster node reads (defaults as in src/config.ts). */
export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): Policy {
  const int = (name: string, dflt: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return dflt
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer 1..${max}, got ${JSON.stringify(raw)}`)
    return n
  }
  const refill = int('RATE_LIMIT', 10, 1_000_000)
  return { refill, windowMs: int('RATE_LIMIT_WINDOW_SEC', 60, 86_400) * 1000, burst: int('RATE_LIMIT_BURST', refill, 1_000_000) }
}

/** What /cluster/status reports for a system that is one process and always its own leader. */
export function singleNodeStatus(id: string, ready: boolean): ClusterStatus {
  return {
    node: id,
    raft: { id, role: 'leader', term: 1, vote: id, leader: id, commit: 0, applied: 0, firstIndex: 1, snapshotIndex: 0, lastIndex: 0, persistedIndex: 0, voters: [id], learners: [], progress: [] },
    leaderAddress: null,
    ready,
    buckets: 0,
    requestIds: 0,
  }
}

/** A single process has no one to hand leadership to. */
export function noTransfer(): Promise<never> {
  return Promise.reject(new RateLimiterError('UNKNOWN_NODE', 'single process: no other member'))
}

/** Nor any membership to change. */
export function noMembership(): Promise<never> {
  return Promise.reject(new RateLimiterError('NOT_LEADER', 'single process: no cluster membership'))
}

/** Listen on 127.0.0.1:$BENCH_PORT; close cleanly on SIGTERM/SIGINT. */
export async function serve(service: RateLimiterService, name: string, onClose: () => Promise<void> = async () => {}): Promise<void> {
  const port = Number(process.env['BENCH_PORT'])
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error('BENCH_PORT must be a port number')
  const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'warn' })
  // Process metrics on, as on a cluster node, so every system pays for the same /metrics.
  const app = buildPublicApp(service, { failMode: 'closed', logger, metrics: createMetrics(service, { processMetrics: true }) })
  await app.listen({ host: '127.0.0.1', port })
  logger.warn({ name, port, pid: process.pid }, 'bench system listening')
  const stop = (): void => {
    app
      .close()
      .then(onClose)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'unclean stop')
          process.exit(1)
        },
      )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
