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
    first_index: 1,
    last_index: 43,
    persisted_index: 43,
    snapshot_index: 0,
    members: ['node-1', 'node-2'],
    learners: ['node-3'],
    buckets: 0,
    request_ids: 0,
    peers: [{ id: 'node-2', match_index: 42, next_index: 44, state: 'replicate', inflight: 1, recent_active: true }],
  })
  const hashed = await app.inject({ method: 'GET', url: '/cluster/status?hash=1' })
  t.equal(hashed.json().state_hash, 'fake-0', 'state_hash only when asked for')
})

t.test('a follower being sent a snapshot shows its pending snapshot index, one still catching up after joining says so', async (t) => {
  const service = new FakeRateLimiter()
  service.raft = {
    ...service.raft,
    firstIndex: 501,
    snapshotIndex: 500,
    progress: [
      { id: 'node-3', match: 0, next: 1, state: 'snapshot', inflight: 0, recentActive: true, pendingSnapshot: 500 },
      { id: 'node-4', match: 7, next: 8, state: 'replicate', inflight: 0, recentActive: true, rejoining: true },
    ],
  }
  const body = (await buildPublicApp(service, { failMode: 'closed' }).inject({ method: 'GET', url: '/cluster/status' })).json()
  t.equal(body.first_index, 501)
  t.equal(body.snapshot_index, 500)
  t.same(body.peers, [
    { id: 'node-3', match_index: 0, next_index: 1, state: 'snapshot', inflight: 0, recent_active: true, pending_snapshot: 500 },
    { id: 'node-4', match_index: 7, next_index: 8, state: 'replicate', inflight: 0, recent_active: true, rejoining: true },
  ])
})

t.test('POST /cluster/transfer-leadership needs the cluster secret and reports the new leader', async (t) => {
  const service = new FakeRateLimiter()
  const app = buildPublicApp(service, { failMode: 'closed', clusterSecret: 'admin-secret-1' })
  const url = '/cluster/transfer-leadership?to=node-2'
  const noSecret = await app.inject({ method: 'POST', url })
  t.equal(noSecret.statusCode, 401)
  t.equal(noSecret.json().error, 'UNAUTHORIZED')
  const wrong = await app.inject({ method: 'POST', url, headers: { 'x-cluster-secret': 'nope-nope-nope' } })
  t.equal(wrong.statusCode, 401)
  t.same(service.transferCalls, [], 'nothing was asked of the service without the secret')

  const ok = await app.inject({ method: 'POST', url, headers: { 'x-cluster-secret': 'admin-secret-1' } })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { result: true, leader: 'node-2', term: 8 })
  const any = await app.inject({ method: 'POST', url: '/cluster/transfer-leadership', headers: { 'x-cluster-secret': 'admin-secret-1' } })
  t.equal(any.statusCode, 200)
  t.same(service.transferCalls, ['node-2', undefined], 'without to, the node picks')

  const extra = await app.inject({ method: 'POST', url: '/cluster/transfer-leadership?too=x', headers: { 'x-cluster-secret': 'admin-secret-1' } })
  t.equal(extra.statusCode, 400)
  t.equal(extra.json().error, 'UNKNOWN_PARAMETER')

  for (const [code, status] of [['NOT_LEADER', 409], ['UNKNOWN_NODE', 400], ['TRANSFER_FAILED', 503]] as const) {
    service.transferOutcome = new RateLimiterError(code)
    const res = await app.inject({ method: 'POST', url, headers: { 'x-cluster-secret': 'admin-secret-1' } })
    t.equal(res.statusCode, status, `${code} -> ${status}`)
    t.equal(res.json().error, code)
  }
})

t.test('membership routes: secret, input checks, and what the service is asked', async (t) => {
  const service = new FakeRateLimiter()
  const app = buildPublicApp(service, { failMode: 'closed', clusterSecret: 'admin-secret-1' })
  const headers = { 'x-cluster-secret': 'admin-secret-1' }
  const add = '/cluster/members?id=node-4&address=127.0.0.1:50004'

  for (const [method, url] of [['POST', add], ['POST', '/cluster/members/node-4/promote'], ['DELETE', '/cluster/members/node-3']] as const) {
    const res = await app.inject({ method, url, headers: { 'x-cluster-secret': 'wrong-wrong-wrong' } })
    t.equal(res.statusCode, 401, `${method} ${url} needs the secret`)
  }
  t.same(service.membershipCalls, [], 'nothing was asked without the secret')

  const added = await app.inject({ method: 'POST', url: add, headers })
  t.equal(added.statusCode, 200)
  t.same(added.json(), { result: true, index: 50, members: ['node-1', 'node-2'], learners: ['node-3', 'node-4'] })
  await app.inject({ method: 'POST', url: '/cluster/members/node-4/promote', headers })
  await app.inject({ method: 'DELETE', url: '/cluster/members/node-3', headers })
  t.same(service.membershipCalls, [
    { type: 'add_learner', id: 'node-4', address: '127.0.0.1:50004' },
    { type: 'promote', id: 'node-4' },
    { type: 'remove', id: 'node-3' },
  ])

  const bad: [string, string, string][] = [
    ['POST', '/cluster/members?id=node-4', 'INVALID_ADDRESS'],
    ['POST', '/cluster/members?address=h:1', 'INVALID_NODE_ID'],
    ['POST', '/cluster/members?id=no%20spaces&address=h:1', 'INVALID_NODE_ID'],
    ['POST', '/cluster/members?id=node-4&address=h:1&extra=1', 'UNKNOWN_PARAMETER'],
    ['POST', '/cluster/members/node-4/promote?x=1', 'UNKNOWN_PARAMETER'],
    ['DELETE', `/cluster/members/${'n'.repeat(65)}`, 'INVALID_NODE_ID'],
  ]
  for (const [method, url, code] of bad) {
    const res = await app.inject({ method: method as 'POST' | 'DELETE', url, headers })
    t.equal(res.statusCode, 400, `${method} ${url}`)
    t.equal(res.json().error, code)
  }
  t.equal(service.membershipCalls.length, 3, 'refused input never reaches the service')

  const refusals = [
    ['NOT_LEADER', 409], ['MEMBER_EXISTS', 409], ['NOT_MEMBER', 404], ['NOT_LEARNER', 409], ['LAST_VOTER', 409],
    ['CHANGE_IN_PROGRESS', 409], ['LEARNER_BEHIND', 409], ['INVALID_ADDRESS', 400], ['CHANGE_FAILED', 503],
  ] as const
  for (const [code, status] of refusals) {
    service.membershipOutcome = new RateLimiterError(code)
    const res = await app.inject({ method: 'POST', url: add, headers })
    t.equal(res.statusCode, status, `${code} -> ${status}`)
    t.equal(res.json().error, code)
  }
})

t.test('without a cluster secret the admin routes do not exist', async (t) => {
  const res = await buildPublicApp(new FakeRateLimiter(), { failMode: 'closed' }).inject({ method: 'POST', url: '/cluster/transfer-leadership' })
  t.equal(res.statusCode, 404)
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

t.test('the leader exports each follower\'s lag; a follower exports none', async (t) => {
  const service = new FakeRateLimiter()
  const app = buildPublicApp(service, { failMode: 'closed' })
  service.raft = {
    ...service.raft,
    lastIndex: 50,
    progress: [
      { id: 'node-2', match: 50, next: 51, state: 'replicate', inflight: 0, recentActive: true },
      { id: 'node-3', match: 38, next: 45, state: 'replicate', inflight: 1, recentActive: true },
    ],
  }
  const leader = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(leader, 'ratelimiter_raft_peer_lag_entries{peer="node-2"} 0')
  t.match(leader, 'ratelimiter_raft_peer_lag_entries{peer="node-3"} 12')

  service.raft = { ...service.raft, role: 'follower', leader: 'node-2', progress: [] }
  const follower = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.notMatch(follower, 'ratelimiter_raft_peer_lag_entries{', 'no stale series once the node stops leading')
})

t.test('peer link series are read from the transport at each scrape', async (t) => {
  const service = new FakeRateLimiter()
  const link = { reachable: true, sentBatches: 10, sentMessages: 25, droppedMessages: 0, streamsOpened: 1, bufferedBytes: 0 }
  let links: Record<string, typeof link> = { 'node-2': link }
  const metrics = createMetrics(service, { peerLinks: () => links })
  const scrape = (): Promise<string> => metrics.registry.metrics()

  const first = await scrape()
  t.match(first, 'ratelimiter_peer_reachable{peer="node-2"} 1')
  t.match(first, 'ratelimiter_peer_frames_sent_total{peer="node-2"} 10')
  t.match(first, 'ratelimiter_peer_messages_sent_total{peer="node-2"} 25')
  t.match(first, '# TYPE ratelimiter_peer_frames_sent_total counter')

  links = {
    'node-2': { ...link, reachable: false, sentBatches: 14, droppedMessages: 3, streamsOpened: 2, bufferedBytes: 512 },
    'node-3': { ...link, sentBatches: 1 },
  }
  const second = await scrape()
  t.match(second, 'ratelimiter_peer_reachable{peer="node-2"} 0')
  t.match(second, 'ratelimiter_peer_frames_sent_total{peer="node-2"} 14', 'the running count, not a sum of scrapes')
  t.match(second, 'ratelimiter_peer_messages_dropped_total{peer="node-2"} 3')
  t.match(second, 'ratelimiter_peer_streams_opened_total{peer="node-2"} 2')
  t.match(second, 'ratelimiter_peer_buffered_bytes{peer="node-2"} 512')
  t.match(second, 'ratelimiter_peer_frames_sent_total{peer="node-3"} 1')

  links = { 'node-3': link }
  t.notMatch(await scrape(), /ratelimiter_peer_\w+\{peer="node-2"\}/, 'a closed link leaves no series')
  t.notMatch(await createMetrics(service).registry.metrics(), 'ratelimiter_peer_', 'no transport, no peer series')
})
