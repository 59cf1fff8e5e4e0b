// Operator actions that change the cluster, behind the cluster secret (the
// same one peers present): POST /cluster/transfer-leadership?to=<node>.
import type { FastifyInstance } from 'fastify'
import { RateLimiterError } from '../errors.js'
import type { RateLimiterService } from '../service.js'
import { clusterSecretMatcher } from '../transport/cluster-secret.js'
import { SECRET_HEADER } from '../transport/peer-protocol.js'

export const TRANSFER_LEADERSHIP_PATH = '/cluster/transfer-leadership'

export function registerAdminRoutes(app: FastifyInstance, service: RateLimiterService, clusterSecret: string): void {
  const isClusterSecret = clusterSecretMatcher(clusterSecret)

  app.post(TRANSFER_LEADERSHIP_PATH, async (request) => {
    if (!isClusterSecret(request.headers[SECRET_HEADER])) throw new RateLimiterError('UNAUTHORIZED')
    const q = (request.query ?? {}) as Record<string, unknown>
    for (const name of Object.keys(q)) if (name !== 'to') throw new RateLimiterError('UNKNOWN_PARAMETER', name)
    const to = q['to']
    if (to !== undefined && (typeof to !== 'string' || to.length === 0)) throw new RateLimiterError('UNKNOWN_NODE', String(to))
    const moved = await service.transferLeadership(to)
    return { result: true, leader: moved.leader, term: moved.term }
  })
}
