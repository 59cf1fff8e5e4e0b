import t from 'tap'
import { RateLimiterError } from '../../src/errors.js'
import { createMetrics } from '../../src/http/metrics.js'
import { buildPublicApp } from '../../src/http/public-app.js'
import { FakeRateLimiter } from './http-fake-service.js'

t.test('GET /cluster/status reports the node and raft progress in snake_case', async (t) => {
  const app = buildPublicApp(new FakeRateLimiter(), { failMode: 'closed' })
  const res = await app.inject({ method: 'GET', url: '/cluster/status' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    node: 'node-1',
    role: 'leader',
    term: 7,
    leader: 'node-1',
    leader_address: '127.0.0.1:20001',
    ready: true,
    commit_index: 42,
    applied_index: 41,
    last_index: 43,
    persisted_index: 43,
    peers: [{ id: 'node-2', match_index: 42, next_index: 44, state: 'replicate', inflight: 1, recent_active: true }],
  })
})

t.test('GET /healthz is always ok', async (t) => {
  const service = new FakeRateLimiter()
  service.ready = false
  const res = await buildPublicApp(service, { failMode: 'closed' }).inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('GET /readyz follows service.isReady()', async (t) => {
  const service = new FakeRateLimiter()
  const app = buildPublicApp(service, { failMode: 'closed' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { ready: true })
  service.ready = false
  const notReady = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(notReady.statusCode, 503)
  t.same(notReady.json(), { ready: false, error: 'NOT_READY' })
  t.equal(notReady.headers['retry-after'], '1')
})

t.test('GET /metrics exposes request counters, latency and raft gauges', async (t) => {
  const service = new FakeRateLimiter(1)
  const app = buildPublicApp(service, { failMode: 'closed' })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&cost=x' })
  await app.inject({ method: 'GET', url: '/rate/check?client_id=b' })
  await app.inject({ method: 'GET', url: '/nowhere' })
  service.failure = new RateLimiterError('NO_QUORUM')
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })

  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  const text = res.body
  t.match(text, 'ratelimiter_requests_total{route="/rate/increment",outcome="admitted"} 1')
  t.match(text, 'ratelimiter_requests_total{route="/rate/increment",outcome="rejected"} 1')
  t.match(text, 'ratelimiter_requests_total{route="/rate/increment",outcome="INVALID_COST"} 1')
  t.match(text, 'ratelimiter_requests_total{route="/rate/increment",outcome="NO_QUORUM"} 1')
  t.match(text, 'ratelimiter_requests_total{route="/rate/check",outcome="admitted"} 1')
  t.match(text, 'ratelimiter_requests_total{route="unmatched",outcome="NOT_FOUND"} 1')
  t.match(text, 'ratelimiter_request_duration_seconds_count{route="/rate/increment"} 4')
  t.match(text, 'ratelimiter_raft_term 7')
  t.match(text, 'ratelimiter_raft_is_leader 1')
  t.match(text, 'ratelimiter_raft_commit_index 42')
  t.match(text, 'ratelimiter_raft_applied_index 41')
})

t.test('gauges are read at scrape time', async (t) => {
  const service = new FakeRateLimiter()
  const app = buildPublicApp(service, { failMode: 'closed' })
  service.raft = { ...service.raft, role: 'follower', term: 9, leader: 'node-2', progress: [] }
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(text, 'ratelimiter_raft_term 9')
  t.match(text, 'ratelimiter_raft_is_leader 0')
})

t.test('each app owns its registry; a shared Metrics can be passed in', async (t) => {
  const a = buildPublicApp(new FakeRateLimiter(), { failMode: 'closed' })
  const b = buildPublicApp(new FakeRateLimiter(), { failMode: 'closed' })
  await a.inject({ method: 'GET', url: '/healthz' })
  const bText = (await b.inject({ method: 'GET', url: '/metrics' })).body
  t.notMatch(bText, 'route="/healthz"', 'b did not see a\'s request')

  const service = new FakeRateLimiter()
  const metrics = createMetrics(service)
  const c = buildPublicApp(service, { failMode: 'closed', metrics })
  await c.inject({ method: 'GET', url: '/healthz' })
  t.match(await metrics.registry.metrics(), 'ratelimiter_requests_total{route="/healthz",outcome="ok"} 1')
})
