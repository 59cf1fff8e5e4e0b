import t from 'tap'
import { decodeCommand, encodeCommand, type IncrementCommand } from '../../src/ratelimit/command.js'

const policy = { refill: 10, windowMs: 60_000, burst: 20 }
const base: IncrementCommand = { key: 'client-1', cost: 3, stamp: 1_700_000_000_123, policy }

t.test('round-trips with and without a request id', async (t) => {
  const plain = encodeCommand(base)
  t.equal(plain, '["client-1",3,1700000000123,10,60000,20]', 'compact positional array')
  t.same(decodeCommand(plain), base)
  t.notOk('requestId' in decodeCommand(plain), 'no requestId property when absent')
  const withId: IncrementCommand = { ...base, requestId: 'req-42' }
  t.same(decodeCommand(encodeCommand(withId)), withId)
})

t.test('round-trips arbitrary unicode keys and request ids', async (t) => {
  const keys = [
    'ключ', '客户端', '😀👍🏽', 'e\u0301', '\u0000nul', 'tab\tnew\nline', '"quoted"\\', '\u2028\u2029',
    '\ud800', 'lone low \udc00', ' ', '[1,2]', 'x'.repeat(5000),
  ]
  // Compared in bulk: some keys would break a TAP test name (U+2028).
  const mismatched = keys.filter((key) => {
    const cmd: IncrementCommand = { ...base, key, requestId: `${key}#id` }
    const back = decodeCommand(encodeCommand(cmd))
    return back.key !== key || back.requestId !== cmd.requestId
  })
  t.equal(mismatched.length, 0, 'every key and request id comes back unchanged')
})

t.test('decode rejects malformed input with a plain Error', async (t) => {
  const bad: [string, string][] = [
    ['', 'empty'],
    ['not json', 'not JSON'],
    ['{"key":"a"}', 'object'],
    ['null', 'null'],
    ['[]', 'empty array'],
    ['["a",1,1,10,60000]', 'too few fields'],
    ['["a",1,1,10,60000,20,"r","extra"]', 'too many fields'],
    ['[1,1,1,10,60000,20]', 'non-string key'],
    ['["",1,1,10,60000,20]', 'empty key'],
    ['["a",0,1,10,60000,20]', 'cost 0'],
    ['["a",-1,1,10,60000,20]', 'negative cost'],
    ['["a",1.5,1,10,60000,20]', 'fractional cost'],
    ['["a",21,1,10,60000,20]', 'cost above burst'],
    ['["a","1",1,10,60000,20]', 'string cost'],
    ['["a",1,-5,10,60000,20]', 'negative stamp'],
    ['["a",1,1.25,10,60000,20]', 'fractional stamp'],
    ['["a",1,1e300,10,60000,20]', 'huge stamp'],
    ['["a",1,1,0,60000,20]', 'refill 0'],
    ['["a",1,1,10,0,20]', 'window 0'],
    ['["a",1,1,10,86400001,20]', 'window above a day'],
    ['["a",1,1,10,60000,1000001]', 'burst above limit'],
    ['["a",1,1,10,60000,null]', 'null burst'],
    ['["a",1,1,10,60000,20,5]', 'numeric request id'],
    ['["a",1,1,10,60000,20,""]', 'empty request id'],
    ['["a",1,1,10,60000,20,null]', 'null request id'],
    ['["a",1,1,10,60000,20', 'truncated'],
  ]
  for (const [s, why] of bad) {
    t.throws(() => decodeCommand(s), { name: 'Error', message: /invalid increment command/ }, why)
  }
})

t.test('encode refuses a command that could not be applied', async (t) => {
  t.throws(() => encodeCommand({ ...base, cost: 0 }))
  t.throws(() => encodeCommand({ ...base, cost: 21 }))
  t.throws(() => encodeCommand({ ...base, key: '' }))
  t.throws(() => encodeCommand({ ...base, stamp: Number.NaN }))
  t.throws(() => encodeCommand({ ...base, policy: { ...policy, windowMs: 0 } }))
  t.throws(() => encodeCommand({ ...base, requestId: '' }))
})
