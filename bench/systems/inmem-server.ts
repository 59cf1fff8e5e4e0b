// `inmem`: one fastify process, token buckets in memory. The upper bound for
// this API: the same public app and the same state machine (src/ratelimit/)
// a cluster node applies committed entries to, with no log, disk or peers.
//
//   BENCH_PORT=8080 RATE_LIMIT=1000 node --import <ts loader> bench/systems/inmem-server.ts
import { toRateDecision } from '../../src/node/decision-view.js'
import { RateLimitStateMachine } from '../../src/ratelimit/index.js'
import type { IncrementInput, RateDecision, RateLimiterService } from '../../src/service.js'
import { noMembership, noTransfer, policyFromEnv, serve, singleNodeStatus } from './serve.js'

const policy = policyFromEnv()
const sm = new RateLimitStateMachine()

const service: RateLimiterService = {
  burst: policy.burst,
  increment(input: IncrementInput): Promise<RateDecision> {
    try {
      const cmd = { key: input.clientId, cost: input.cost, stamp: Date.now(), policy }
      const decision = sm.apply(input.requestId === undefined ? cmd : { ...cmd, requestId: input.requestId })
      return Promise.resolve(toRateDecision(decision))
    } catch (err) {
      return Promise.reject(err)
    }
  },
  check(clientId: string): Promise<RateDecision> {
    return Promise.resolve(toRateDecision(sm.check(clientId, Date.now(), policy)))
  },
  transferLeadership: noTransfer,
  changeMembership: noMembership,
  status: () => singleNodeStatus('inmem', true),
  isReady: () => true,
}

await serve(service, 'inmem')
