import t from 'tap'
import { buildPublicApp } from '../../src/http/public-app.js'
import { FakeRateLimiter } from './http-fake-service.js'

const long = (n: number) => 'x'.repeat(n)

const BAD_INCREMENTS: ReadonlyArray<readonly [string, string, Record<string, string>?]> = [
  ['/rate/increment', 'INVALID_CLIENT_ID'],
  ['/rate/increment?client_id=', 'INVALID_CLIENT_ID'],
  [`/rate/increment?client_id=${long(257)}`, 'INVALID_CLIENT_ID'],
  ['/rate/increment?client_id=a&client_id=b', 'INVALID_CLIENT_ID'],
  ['/rate/increment?client_id=a&cost=abc', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=1.5', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=0', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=-1', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=1e3', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=%201', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=1&cost=2', 'INVALID_COST'],
  ['/rate/increment?client_id=a&cost=6', 'COST_EXCEEDS_BURST'],
  [`/rate/increment?client_id=a&cost=${'9'.repeat(400)}`, 'COST_EXCEEDS_BURST'],
  ['/rate/increment?client_id=a&request_id=', 'INVALID_REQUEST_ID'],
  [`/rate/increment?client_id=a&request_id=${long(129)}`, 'INVALID_REQUEST_ID'],
  ['/rate/increment?client_id=a', 'INVALID_REQUEST_ID', { 'idempotency-key': long(129) }],
  ['/rate/increment?client_id=a&request_id=r1', 'INVALID_REQUEST_ID', { 'idempotency-key': 'r2' }],
  ['/rate/increment?client_id=a&limit=5', 'UNKNOWN_PARAMETER'],
  ['/rate/increment?clientid=a', 'UNKNOWN_PARAMETER'],
]

t.test('bad increment input: 400 with its code, service never called', async (t) => {
  const service = new FakeRateLimiter(5)
  const app = buildPublicApp(service, { failMode: 'closed' })
  for (const [url, code, headers] of BAD_INCREMENTS) {
    const res = await app.inject({ method: 'POST', url, headers: headers ?? {} })
    t.equal(res.statusCode, 400, `${url} → 400`)
    t.match(res.json(), { result: false, error: code, message: String }, `${url} → ${code}`)
  }
  t.equal(service.incrementCalls.length, 0, 'increment was never called')
})

t.test('messages name the problem without echoing long values', async (t) => {
  const app = buildPublicApp(new FakeRateLimiter(5), { failMode: 'closed' })
  const unknown = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&colour=red' })
  t.match(unknown.json().message, /"colour"/)
  const tooLong = await app.inject({ method: 'POST', url: `/rate/increment?client_id=${long(300)}` })
  t.match(tooLong.json().message, /300 characters/)
  t.notMatch(tooLong.json().message, long(40))
  const burst = await app.inject({ method: 'POST', url: '/rate/increment?client_id=a&cost=9' })
  t.match(burst.json().message, /9 > burst 5/)
})

t.test('bad check input: 400 with its code, service never called', async (t) => {
  const service = new FakeRateLimiter(5)
  const app = buildPublicApp(service, { failMode: 'closed' })
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['/rate/check', 'INVALID_CLIENT_ID'],
    ['/rate/check?client_id=', 'INVALID_CLIENT_ID'],
    [`/rate/check?client_id=${long(257)}`, 'INVALID_CLIENT_ID'],
    ['/rate/check?client_id=a&cost=1', 'UNKNOWN_PARAMETER'],
  ]
  for (const [url, code] of cases) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 400, url)
    t.equal(res.json().error, code, url)
  }
  t.equal(service.checkCalls.length, 0)
})

t.test('boundary values are accepted', async (t) => {
  const service = new FakeRateLimiter(5)
  const app = buildPublicApp(service, { failMode: 'closed' })
  const res = await app.inject({ method: 'POST', url: `/rate/increment?client_id=${long(256)}&request_id=${long(128)}&cost=1` })
  t.equal(res.statusCode, 200)
  t.equal(service.incrementCalls.length, 1)
  const enc = await app.inject({ method: 'POST', url: '/rate/increment?client_id=user%40example.com' })
  t.equal(enc.statusCode, 200)
  t.equal(service.incrementCalls[1]?.clientId, 'user@example.com')
})
