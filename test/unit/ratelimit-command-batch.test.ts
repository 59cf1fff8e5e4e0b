import t from 'tap'
import { batchOfOne, decodeCommandBatch, encodeCommandBatch, type CommandBatch } from '../../src/ratelimit/command-batch.js'

const policy = { refill: 10, windowMs: 60_000, burst: 20 }
const base: CommandBatch = { stamp: 1_700_000_000_123, policy, items: [{ key: 'client-1', cost: 3 }] }

t.test('round-trips items with and without request ids', async (t) => {
  const plain = encodeCommandBatch(base)
  t.equal(plain, '[1700000000123,10,60000,20,"client-1",3,null]', 'compact positional array')
  t.same(decodeCommandBatch(plain), base)
  t.notOk('requestId' in (decodeCommandBatch(plain).items[0] ?? {}), 'no requestId property when absent')
  const mixed: CommandBatch = {
    ...base,
    items: [{ key: 'a', cost: 1, requestId: 'req-42' }, { key: 'b', cost: 20 }, { key: 'a', cost: 2, requestId: 'req-42' }],
  }
  const encoded = encodeCommandBatch(mixed)
  t.equal(encoded, '[1700000000123,10,60000,20,"a",1,"req-42","b",20,null,"a",2,"req-42"]')
  t.same(decodeCommandBatch(encoded), mixed, 'order, repeats and request ids kept')
})

t.test('round-trips arbitrary unicode keys and request ids', async (t) => {
  const keys = [
    'ключ', '客户端', '😀👍🏽', 'e\u0301', '\u0000nul', 'tab\tnew\nline', '"quoted"\\', '\u2028\u2029',
    '\ud800', 'lone low \udc00', ' ', '[1,2]', 'null', 'x'.repeat(5000),
  ]
  const batch: CommandBatch = { ...base, items: keys.map((key) => ({ key, cost: 1, requestId: `${key}#id` })) }
  const back = decodeCommandBatch(encodeCommandBatch(batch))
  // Compared in bulk: some keys would break a TAP test name (U+2028).
  const mismatched = keys.filter((key, i) => back.items[i]?.key !== key || back.items[i]?.requestId !== `${key}#id`)
  t.equal(mismatched.length, 0, 'every key and request id comes back unchanged')
})

t.test('reads a single command written before batches as a batch of one', async (t) => {
  t.same(decodeCommandBatch('["client-1",3,1700000000123,10,60000,20]'), base)
  t.same(decodeCommandBatch('["client-1",3,1700000000123,10,60000,20,"r-1"]'), {
    ...base,
    items: [{ key: 'client-1', cost: 3, requestId: 'r-1' }],
  })
  t.same(batchOfOne({ key: 'client-1', cost: 3, stamp: base.stamp, policy }), base)
})

t.test('decode rejects malformed input with a plain Error', async (t) => {
  const bad: [string, string][] = [
    ['', 'empty'],
    ['not json', 'not JSON'],
    ['{"key":"a"}', 'object'],
    ['null', 'null'],
    ['[]', 'empty array'],
    ['[1,10,60000,20]', 'no items'],
    ['[1,10,60000,20,"a",1]', 'item cut short'],
    ['[1,10,60000,20,"a",1,null,"b"]', 'second item cut short'],
    ['[1,10,60000,20,5,1,null]', 'non-string key'],
    ['[1,10,60000,20,"",1,null]', 'empty key'],
    ['[1,10,60000,20,"a",0,null]', 'cost 0'],
    ['[1,10,60000,20,"a",-1,null]', 'negative cost'],
    ['[1,10,60000,20,"a",1.5,null]', 'fractional cost'],
    ['[1,10,60000,20,"a",21,null]', 'cost above burst'],
    ['[1,10,60000,20,"a","1",null]', 'string cost'],
    ['[1,10,60000,20,"a",1,5]', 'numeric request id'],
    ['[1,10,60000,20,"a",1,""]', 'empty request id'],
    ['[1,10,60000,20,"a",1,null,"b",99,null]', 'a later item invalid'],
    ['[-5,10,60000,20,"a",1,null]', 'negative stamp'],
    ['[1.25,10,60000,20,"a",1,null]', 'fractional stamp'],
    ['[1e300,10,60000,20,"a",1,null]', 'huge stamp'],
    ['[null,10,60000,20,"a",1,null]', 'null stamp'],
    ['[1,0,60000,20,"a",1,null]', 'refill 0'],
    ['[1,10,0,20,"a",1,null]', 'window 0'],
    ['[1,10,86400001,20,"a",1,null]', 'window above a day'],
    ['[1,10,60000,1000001,"a",1,null]', 'burst above limit'],
    ['[1,10,60000,20,"a",1,null', 'truncated'],
    // The single-command form of earlier versions, malformed.
    ['["a",1,1,10,60000]', 'old form: too few fields'],
    ['["a",1,1,10,60000,20,"r","extra"]', 'old form: too many fields'],
    ['["",1,1,10,60000,20]', 'old form: empty key'],
    ['["a",21,1,10,60000,20]', 'old form: cost above burst'],
    ['["a",1,-5,10,60000,20]', 'old form: negative stamp'],
    ['["a",1,1,10,60000,20,null]', 'old form: null request id'],
  ]
  for (const [s, why] of bad) {
    t.throws(() => decodeCommandBatch(s), { name: 'Error', message: /invalid increment command/ }, why)
  }
})

t.test('encode refuses a batch that could not be applied', async (t) => {
  const item = { key: 'a', cost: 1 }
  t.throws(() => encodeCommandBatch({ ...base, items: [] }), /at least one item/)
  t.throws(() => encodeCommandBatch({ ...base, items: [item, { ...item, cost: 0 }] }), /item 1: cost/)
  t.throws(() => encodeCommandBatch({ ...base, items: [{ ...item, cost: 21 }] }))
  t.throws(() => encodeCommandBatch({ ...base, items: [{ ...item, key: '' }] }))
  t.throws(() => encodeCommandBatch({ ...base, items: [{ ...item, requestId: '' }] }))
  t.throws(() => encodeCommandBatch({ ...base, stamp: Number.NaN }))
  t.throws(() => encodeCommandBatch({ ...base, policy: { ...policy, windowMs: 0 } }))
})
