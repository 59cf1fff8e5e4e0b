// `redis-lua` / `redis-lua-fsync`: the design this project replaces. The
// project's public app (same routes and shapes as a cluster node) in front of
// one redis-server; each increment is one EVALSHA of a Lua token bucket that
// reads the clock with TIME, so Redis alone decides. Whether Redis fsyncs each
// write (appendfsync always) is redis-server's configuration, not this file's.
//
//   BENCH_PORT=8080 REDIS_PORT=6390 RATE_LIMIT=1000 node --import <ts loader> bench/systems/redis-server.ts
import { Redis } from 'ioredis'
import { toRateDecision } from '../../src/node/decision-view.js'
import type { Decision, Policy } from '../../src/ratelimit/index.js'
import type { IncrementInput, RateDecision, RateLimiterService } from '../../src/service.js'
import { noMembership, noTransfer, policyFromEnv, serve, singleNodeStatus } from './serve.js'

// Integer units as in src/ratelimit/bucket.ts: 1 token = windowMs units, so
// the bucket gains exactly `refill` units per ms. A key holds l (level) and
// t (ms stamp); it expires when it would be full, since a full bucket is the
// same as no bucket. Returns {admitted, remaining tokens, retryAfterMs, resetMs}.
const LEVEL_AT = `
local refill = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = tonumber(ARGV[3]) * window
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local level = cap
local b = redis.call('HMGET', KEYS[1], 'l', 't')
if b[1] then
  local stamp = tonumber(b[2])
  if now < stamp then now = stamp end
  level = math.min(cap, tonumber(b[1]) + (now - stamp) * refill)
end
`

export const INCREMENT_LUA = `${LEVEL_AT}
local want = tonumber(ARGV[4]) * window
local admitted = 0
local retry = 0
if level >= want then
  admitted = 1
  level = level - want
  redis.call('HSET', KEYS[1], 'l', string.format('%.0f', level), 't', string.format('%.0f', now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((cap - level) / refill))
else
  retry = math.ceil((want - level) / refill)
end
return {admitted, math.floor(level / window), retry, math.ceil((cap - level) / refill)}
`

export const CHECK_LUA = `${LEVEL_AT}
local admitted = 0
if level >= window then admitted = 1 end
return {admitted, math.floor(level / window), 0, math.ceil((cap - level) / refill)}
`

const policy: Policy = policyFromEnv()
const redisPort = Number(process.env['REDIS_PORT'])
if (!Number.isInteger(redisPort)) throw new Error('REDIS_PORT must be a port number')

const redis = new Redis({
  host: '127.0.0.1',
  port: redisPort,
  // Commands issued in one event-loop turn go out in one write: what a tuned deployment does.
  enableAutoPipelining: process.env['REDIS_AUTOPIPELINE'] !== '0',
  maxRetriesPerRequest: 1,
})
const incrementSha = String(await redis.script('LOAD', INCREMENT_LUA))
const checkSha = String(await redis.script('LOAD', CHECK_LUA))
const policyArgs = [policy.refill, policy.windowMs, policy.burst] as const

function toDecision(reply: unknown): RateDecision {
  if (!Array.isArray(reply) || reply.length !== 4) throw new Error(`unexpected script reply ${JSON.stringify(reply)}`)
  const [admitted, remaining, retryAfterMs, resetMs] = reply.map(Number) as [number, number, number, number]
  const d: Decision = { admitted: admitted === 1, remaining, retryAfterMs, resetMs, policy, duplicate: false }
  return toRateDecision(d)
}

const service: RateLimiterService = {
  burst: policy.burst,
  // request_id (idempotency) is not modelled here: the bench never sends one.
  async increment(input: IncrementInput): Promise<RateDecision> {
    return toDecision(await redis.evalsha(incrementSha, 1, input.clientId, ...policyArgs, input.cost))
  },
  async check(clientId: string): Promise<RateDecision> {
    return toDecision(await redis.evalsha(checkSha, 1, clientId, ...policyArgs))
  },
  transferLeadership: noTransfer,
  changeMembership: noMembership,
  status: () => singleNodeStatus('redis-lua', redis.status === 'ready'),
  isReady: () => redis.status === 'ready',
}

await serve(service, 'redis-lua', async () => {
  await redis.quit()
})
