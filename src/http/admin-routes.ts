// Operator actions that change the cluster, behind the cluster secret (the
// same one peers present): leadership transfer and membership changes.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { NODE_ID_PATTERN } from '../address.js'
import { RateLimiterError } from '../errors.js'
import type { ConfChange } from '../raft/types.js'
import type { MembershipResult, RateLimiterService } from '../service.js'
import { clusterSecretMatcher } from '../transport/cluster-secret.js'
import { SECRET_HEADER } from '../transport/peer-protocol.js'

export const TRANSFER_LEADERSHIP_PATH = '/cluster/transfer-leadership'
export const MEMBERS_PATH = '/cluster/members'

export function registerAdminRoutes(app: FastifyInstance, service: RateLimiterService, clusterSecret: string): void {
  const isClusterSecret = clusterSecretMatcher(clusterSecret)

  /** The secret first, then only the query parameters the route knows. */
  const admit = (request: FastifyRequest, allowed: readonly string[]): Record<string, unknown> => {
    if (!isClusterSecret(request.headers[SECRET_HEADER])) throw new RateLimiterError('UNAUTHORIZED')
    const q = (request.query ?? {}) as Record<string, unknown>
    for (const name of Object.keys(q)) if (!allowed.includes(name)) throw new RateLimiterError('UNKNOWN_PARAMETER', name)
    return q
  }

  const change = async (c: ConfChange) => membershipBody(await service.changeMembership(c))

  app.post(TRANSFER_LEADERSHIP_PATH, async (request) => {
    const q = admit(request, ['to'])
    const to = q['to']
    if (to !== undefined && (typeof to !== 'string' || to.length === 0)) throw new RateLimiterError('UNKNOWN_NODE', String(to))
    const moved = await service.transferLeadership(to)
    return { result: true, leader: moved.leader, term: moved.term }
  })

  // Add a learner: it receives the log but does not vote until promoted.
  app.post(MEMBERS_PATH, async (request) => {
    const q = admit(request, ['id', 'address'])
    const address = q['address']
    if (typeof address !== 'string' || address.length === 0) throw new RateLimiterError('INVALID_ADDRESS', 'address is required')
    return change({ type: 'add_learner', id: nodeIdOf(q['id']), address })
  })

  app.post(`${MEMBERS_PATH}/:id/promote`, async (request) => {
    admit(request, [])
    return change({ type: 'promote', id: nodeIdOf((request.params as { id?: unknown }).id) })
  })

  app.delete(`${MEMBERS_PATH}/:id`, async (request) => {
    admit(request, [])
    return change({ type: 'remove', id: nodeIdOf((request.params as { id?: unknown }).id) })
  })
}

function nodeIdOf(x: unknown): string {
  if (typeof x !== 'string' || !NODE_ID_PATTERN.test(x)) throw new RateLimiterError('INVALID_NODE_ID', String(x).slice(0, 80))
  return x
}

function membershipBody(r: MembershipResult) {
  return { result: true, index: r.index, members: r.voters, learners: r.learners }
}
