import t from 'tap'
import { buildPublicApp } from '../../src/http/public-app.js'
import { FakeRateLimiter } from './http-fake-service.js'

// burst 5, refill 5 per 60 s: one token every 12 s.
function setup() {
  const service = new FakeRateLimiter(5, 5, 60)
  const app = buildPublicApp(service, { failMode: 'closed' })
  return { service, app }
}

t.test('Go-compatible shape: POST /rate/increment?client_id=client-1', async (t) => {
  const { app, service } = setup()
  const res = await app.inject({ method: 'POST', url: '/rate/increment?client_id=client-1' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), { result: true, remaining_quota: 4, limit: 5, reset_after_sec: 12 })
  t.same(service.incrementCalls, [{ clientId: 'client-1', cost: 1 }])
})

t.test('admitted response carries rate-limit headers', async (t) => {
  const { app } = setup()
  const res = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&cost=2' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-ratelimit-limit'], '5')
  t.equal(res.headers['x-ratelimit-remaining'], '3')
  t.equal(res.headers['x-ratelimit-reset'], '24')
  t.equal(res.headers['ratelimit-policy'], '"default";q=5;w=60')
  t.equal(res.headers['ratelimit'], '"default";r=3;t=24')
  t.notOk(res.headers['retry-after'], 'no Retry-After when admitted')
})

t.test('exhausted bucket: 429 with Retry-After and retry_after_sec', async (t) => {
  const { app } = setup()
  t.equal((await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&cost=5' })).statusCode, 200)
  const res = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&cost=2' })
  t.equal(res.statusCode, 429)
  t.same(res.json(), { result: false, remaining_quota: 0, limit: 5, retry_after_sec: 24 })
  t.equal(res.headers['retry-after'], '24')
  t.equal(res.headers['x-ratelimit-remaining'], '0')
  t.equal(res.headers['ratelimit'], '"default";r=0;t=60')
})

t.test('Retry-After is a whole number of seconds, at least 1', async (t) => {
  const service = new FakeRateLimiter(1, 600, 60) // a token every 0.1 s
  const app = buildPublicApp(service, { failMode: 'closed' })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })
  const res = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })
  t.equal(res.statusCode, 429)
  t.equal(res.headers['retry-after'], '1')
  t.equal(res.json().retry_after_sec, 1)
})

t.test('cost up to the burst is accepted', async (t) => {
  const { app, service } = setup()
  const res = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&cost=5' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().remaining_quota, 0)
  t.equal(service.incrementCalls[0]?.cost, 5)
})

t.test('request_id and Idempotency-Key reach the service', async (t) => {
  const { app, service } = setup()
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&request_id=r-1' })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a', headers: { 'idempotency-key': 'k-2' } })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a', headers: { 'idempotency-key': '"k-3"' } })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&request_id=k-4', headers: { 'idempotency-key': 'k-4' } })
  t.same(
    service.incrementCalls.map((c) => c.requestId),
    ['r-1', 'k-2', 'k-3', 'k-4'],
  )
})

t.test('bodies are not needed and do not get in the way', async (t) => {
  const { app } = setup()
  const url = '/rate/increment?client_id=a'
  const emptyJson = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(emptyJson.statusCode, 200, 'empty body with a JSON content type (Go http.Post(url, "application/json", nil))')
  const form = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'x=1' })
  t.equal(form.statusCode, 200, 'curl -d')
  const json = await app.inject({ method: 'POST', url, payload: { anything: true } })
  t.equal(json.statusCode, 200)
})
