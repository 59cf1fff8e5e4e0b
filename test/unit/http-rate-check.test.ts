import t from 'tap'
import { buildPublicApp } from '../../src/http/public-app.js'
import { FakeRateLimiter } from './http-fake-service.js'

t.test('Go-compatible shape: GET /rate/check?client_id=client-1', async (t) => {
  const service = new FakeRateLimiter(5, 5, 60)
  const app = buildPublicApp(service, { failMode: 'closed' })
  const res = await app.inject({ method: 'GET', url: '/rate/check?client_id=client-1' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { result: true, remaining_quota: 5, limit: 5 })
  t.equal(res.headers['x-ratelimit-remaining'], '5')
  t.equal(res.headers['x-ratelimit-reset'], '0')
  t.equal(res.headers['ratelimit-policy'], '"default";q=5;w=60')
  t.equal(res.headers['ratelimit'], '"default";r=5;t=0')
  t.same(service.checkCalls, ['client-1'])
})

t.test('check consumes nothing and reports an exhausted bucket with 200', async (t) => {
  const service = new FakeRateLimiter(2, 2, 10)
  const app = buildPublicApp(service, { failMode: 'closed' })
  for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/rate/check?client_id=c' })
  t.equal(service.incrementCalls.length, 0)
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=c&cost=2' })
  const res = await app.inject({ method: 'GET', url: '/rate/check?client_id=c' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { result: false, remaining_quota: 0, limit: 2 })
  t.equal(res.headers['x-ratelimit-reset'], '10')
  t.notOk(res.headers['retry-after'])
})

t.test('check is GET only; POST is an unknown route', async (t) => {
  const app = buildPublicApp(new FakeRateLimiter(), { failMode: 'closed' })
  const res = await app.inject({ method: 'POST', url: '/rate/check?client_id=c' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().error, 'NOT_FOUND')
})
