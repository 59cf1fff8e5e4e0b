import t from 'tap'
import { RateLimiterError } from '../../src/errors.js'
import { buildPublicApp } from '../../src/http/public-app.js'
import { classifyError } from '../../src/http/error-handler.js'
import { FakeRateLimiter } from './http-fake-service.js'

t.test('cluster unavailable, fail closed: 503 with Retry-After and the code', async (t) => {
  for (const code of ['NO_LEADER', 'NO_QUORUM', 'SHUTTING_DOWN'] as const) {
    const service = new FakeRateLimiter()
    service.failure = new RateLimiterError(code)
    const app = buildPublicApp(service, { failMode: 'closed' })
    for (const [method, url] of [['POST', '/rate/increment?client_id=a'], ['GET', '/rate/check?client_id=a']] as const) {
      const res = await app.inject({ method, url })
      t.equal(res.statusCode, 503, `${code} ${url}`)
      t.equal(res.headers['retry-after'], '1')
      t.match(res.json(), { result: false, error: code, message: String })
      t.notOk(res.headers['x-ratelimit-degraded'])
    }
  }
})

t.test('fail open: NO_LEADER / NO_QUORUM admit, flagged degraded', async (t) => {
  for (const code of ['NO_LEADER', 'NO_QUORUM'] as const) {
    const service = new FakeRateLimiter(5)
    service.failure = new RateLimiterError(code)
    const app = buildPublicApp(service, { failMode: 'open' })
    const inc = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })
    t.equal(inc.statusCode, 200)
    t.same(inc.json(), { result: true, degraded: true, error: code, limit: 5 })
    t.equal(inc.headers['x-ratelimit-degraded'], '1')
    const check = await app.inject({ method: 'GET', url: '/rate/check?client_id=a' })
    t.equal(check.statusCode, 200)
    t.match(check.json(), { result: true, degraded: true })
    t.equal(check.headers['x-ratelimit-degraded'], '1')
  }
})

t.test('fail open does not admit shutdown, bad input or unexpected errors', async (t) => {
  const service = new FakeRateLimiter(5)
  const app = buildPublicApp(service, { failMode: 'open' })
  service.failure = new RateLimiterError('SHUTTING_DOWN')
  t.equal((await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })).statusCode, 503)
  t.equal((await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&cost=x' })).statusCode, 400)
  service.failure = new Error('disk on fire')
  t.equal((await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })).statusCode, 500)
})

t.test('unexpected errors: 500 INTERNAL, no stack or detail in the body', async (t) => {
  const service = new FakeRateLimiter()
  const boom = new TypeError('secret internals at /srv/app.js:1')
  service.failure = boom
  const app = buildPublicApp(service, { failMode: 'closed' })
  const res = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { result: false, error: 'INTERNAL', message: 'internal error' })
  t.notMatch(res.body, /secret|stack|app\.js/)
  service.failure = 'a thrown string'
  const str = await app.inject({ method: 'GET', url: '/rate/check?client_id=a' })
  t.equal(str.statusCode, 500)
  t.equal(str.json().error, 'INTERNAL')
})

t.test('unexpected errors are logged', async (t) => {
  const lines: string[] = []
  const service = new FakeRateLimiter()
  service.failure = new Error('kaboom')
  const app = buildPublicApp(service, {
    failMode: 'closed',
    logger: { level: 'error', stream: { write: (line: string) => void lines.push(line) } },
  })
  await app.inject({ method: 'POST', url: '/rate/increment?client_id=a' })
  t.equal(lines.length, 1)
  t.match(lines[0], /kaboom/)
})

t.test('unknown route: 404 NOT_FOUND JSON', async (t) => {
  const app = buildPublicApp(new FakeRateLimiter(), { failMode: 'closed' })
  for (const [method, url] of [['GET', '/nope'], ['GET', '/rate/increment?client_id=a'], ['DELETE', '/healthz']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.same(res.json(), { result: false, error: 'NOT_FOUND', message: 'no such route' })
  }
})

t.test('malformed requests never produce a 500', async (t) => {
  const service = new FakeRateLimiter()
  const app = buildPublicApp(service, { failMode: 'closed' })
  const badJson = await app.inject({
    method: 'POST',
    url: '/rate/increment?client_id=a',
    headers: { 'content-type': 'application/json' },
    payload: '{"client_id":',
  })
  t.equal(badJson.statusCode, 400)
  t.equal(badJson.json().error, 'INVALID_BODY')

  const huge = await app.inject({
    method: 'POST',
    url: '/rate/increment?client_id=a',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ pad: 'x'.repeat(100_000) }),
  })
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().error, 'PAYLOAD_TOO_LARGE')

  const badUrl = await app.inject({ method: 'GET', url: '/rate/%E0%A4%A' })
  t.ok(badUrl.statusCode === 400 || badUrl.statusCode === 404, `bad URL → ${badUrl.statusCode}`)
  t.match(badUrl.json(), { result: false, error: String })

  const badQuery = await app.inject({ method: 'POST', url: '/rate/increment?client_id=%E0%A4%A' })
  t.ok(badQuery.statusCode < 500, `bad query encoding → ${badQuery.statusCode}`)
  t.equal(service.incrementCalls.length, badQuery.statusCode === 200 ? 1 : 0)
})

t.test('classifyError maps framework 4xx to client errors', async (t) => {
  t.match(classifyError(Object.assign(new Error('bad header'), { statusCode: 400 })), { status: 400, code: 'BAD_REQUEST' })
  t.match(classifyError(Object.assign(new Error('too big'), { statusCode: 413 })), { status: 413, code: 'PAYLOAD_TOO_LARGE' })
  t.match(classifyError(Object.assign(new Error('oops'), { statusCode: 500 })), { status: 500, code: 'INTERNAL', message: 'internal error' })
  t.match(classifyError(new RateLimiterError('NO_QUORUM')), { status: 503, code: 'NO_QUORUM', retryAfterSec: 1 })
  t.match(classifyError(null), { status: 500, code: 'INTERNAL' })
})
