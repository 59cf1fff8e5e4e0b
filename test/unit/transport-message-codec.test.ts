import t from 'tap'
import type { MessageType } from '../../src/raft/types.js'
import { decodePeerFrame, encodePeerFrame } from '../../src/transport/message-codec.js'
import { decodeMessageBatch, encodeMessageBatch, oneOfEachMessage } from './transport-fixtures.js'

const ALL_TYPES: MessageType[] = [
  'prevote', 'vote', 'prevote_resp', 'vote_resp', 'append',
  'append_resp', 'heartbeat', 'heartbeat_resp', 'read_index', 'read_index_resp', 'timeout_now', 'snapshot',
]

t.test('every message type survives a round trip unchanged and in order', async (t) => {
  const messages = oneOfEachMessage()
  t.same(new Set(messages.map((m) => m.type)), new Set(ALL_TYPES), 'fixture covers every type')
  t.strictSame(decodeMessageBatch(encodeMessageBatch(messages)), messages)
})

t.test('an empty batch round-trips', async (t) => {
  t.strictSame(decodeMessageBatch(encodeMessageBatch([])), [])
})

t.test('the encoding is more compact than naive JSON', async (t) => {
  const messages = oneOfEachMessage()
  t.ok(encodeMessageBatch(messages).length < JSON.stringify(messages).length * 0.6)
})

// A valid v1 heartbeat tuple, mutated by each case below.
const heartbeat = () => [6, 'node-1', 'node-2', 5, 12, 3]
const append = () => [4, 'node-1', 'node-2', 5, 10, 3, 9, [11, 5, 1, 'x']]
const batch = (...m: unknown[]) => JSON.stringify({ v: 1, m })

t.test('the valid baselines decode, so the rejections below are about the mutation', async (t) => {
  t.equal(decodeMessageBatch(batch(heartbeat(), append())).length, 2)
})

const malformed: Record<string, string> = {
  'not JSON': '{"v":1,"m":[',
  'empty body': '',
  'JSON null': 'null',
  'top-level array': '[]',
  'unknown version': JSON.stringify({ v: 2, m: [] }),
  'missing message list': JSON.stringify({ v: 1 }),
  'message not a tuple': batch({ type: 'heartbeat' }),
  'unknown type code': batch([42, 'node-1', 'node-2', 5]),
  'type code as string': batch(['heartbeat', 'node-1', 'node-2', 5, 12, 3]),
  'missing field': batch(heartbeat().slice(0, 5)),
  'extra field': batch([...heartbeat(), 7]),
  'non-integer term': batch([6, 'node-1', 'node-2', 5.5, 12, 3]),
  'negative commit': batch([6, 'node-1', 'node-2', 5, -1, 3]),
  'number beyond safe integers': batch([6, 'node-1', 'node-2', 5, 2 ** 60, 3]),
  'number as string': batch([6, 'node-1', 'node-2', '5', 12, 3]),
  'null field': batch([6, 'node-1', 'node-2', 5, null, 3]),
  'empty from': batch([6, '', 'node-2', 5, 12, 3]),
  'numeric to': batch([6, 'node-1', 2, 5, 12, 3]),
  'reject not 0/1': batch([3, 'node-1', 'node-2', 5, true]),
  'read ctx not a string': batch([8, 'node-1', 'node-2', 5, 7]),
  'entries not an array': batch([4, 'node-1', 'node-2', 5, 10, 3, 9, 'x']),
  'entries not a multiple of 4 slots': batch([4, 'node-1', 'node-2', 5, 10, 3, 9, [11, 5, 1]]),
  'entry with unknown kind': batch([4, 'node-1', 'node-2', 5, 10, 3, 9, [11, 5, 3, 'x']]),
  'entry with non-string data': batch([4, 'node-1', 'node-2', 5, 10, 3, 9, [11, 5, 1, { a: 1 }]]),
  'entry with fractional index': batch([4, 'node-1', 'node-2', 5, 10, 3, 9, [11.5, 5, 1, 'x']]),
  'one bad message among good ones': batch(heartbeat(), [6, 'node-1', 'node-2', 5, 12], append()),
}

for (const [name, body] of Object.entries(malformed)) {
  t.test(`rejects ${name}`, async (t) => {
    t.throws(() => decodeMessageBatch(body), { name: 'RateLimiterError', code: 'INVALID_PEER_MESSAGE' })
  })
}

t.test('the error names the offending message', async (t) => {
  t.throws(() => decodeMessageBatch(batch(heartbeat(), [6, 'node-1', 'node-2', 1.5, 12, 3])), /message 1/)
})

t.test('a stream frame carries forwards and answers beside its messages', async (t) => {
  const messages = oneOfEachMessage()
  const forwards = [
    { id: 0, inputs: [{ clientId: 'alice', cost: 1, requestId: 'r-1' }, { clientId: 'bob', cost: 2 }] },
    { id: 7, inputs: [{ clientId: 'ключ-😀', cost: 1 }] },
  ]
  const answers = [{ id: 3, outcomes: [{ ok: false, code: 'NO_QUORUM' }] }]
  const frame = decodePeerFrame(encodePeerFrame({ messages, forwards, answers }))
  t.strictSame(frame.messages, messages)
  t.strictSame(frame.forwards, forwards)
  t.strictSame(frame.answers, answers)
  const plain = encodePeerFrame({ messages, forwards: [], answers: [] })
  t.same(Object.keys(JSON.parse(plain) as object), ['v', 'm'], 'without them, a frame is the plain message batch')
  t.strictSame(decodePeerFrame(plain), { messages, forwards: [], answers: [] })
})

t.test('malformed forwards and answers break the frame', async (t) => {
  const bad: [string, unknown][] = [
    ['f not an array', { f: 1 }],
    ['forward not a pair', { f: [[1]] }],
    ['negative id', { f: [[-1, [{ clientId: 'a', cost: 1 }]]] }],
    ['fractional id', { f: [[1.5, [{ clientId: 'a', cost: 1 }]]] }],
    ['inputs not an array', { f: [[1, { clientId: 'a', cost: 1 }]] }],
    ['empty client id', { f: [[1, [{ clientId: '', cost: 1 }]]] }],
    ['cost 0', { f: [[1, [{ clientId: 'a', cost: 0 }]]] }],
    ['a not an array', { a: 'x' }],
    ['answer id a string', { a: [['1', []]] }],
  ]
  for (const [why, extra] of bad) {
    t.throws(() => decodePeerFrame(JSON.stringify({ v: 1, m: [], ...(extra as object) })), { name: 'RateLimiterError', code: 'INVALID_PEER_MESSAGE' }, why)
  }
})
