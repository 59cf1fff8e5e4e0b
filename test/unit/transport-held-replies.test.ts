import t from 'tap'
import { HeldReplies } from '../../src/transport/held-replies.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

t.test('items offered in one turn answer the oldest held request together', async (t) => {
  const h = new HeldReplies<number>()
  t.notOk(h.offer(0), 'nothing held: the caller sends it itself')
  const first = h.hold()
  const second = h.hold()
  t.ok(h.offer(1))
  t.ok(h.offer(2))
  await turn()
  t.same(await first, [1, 2])
  t.ok(h.offer(3))
  await turn()
  t.same(await second, [3], 'the next batch goes to the next request')
  t.notOk(h.offer(4))
  t.same(h.stats(), { repliedBatches: 2, releasedEmpty: 0, held: 0 })
})

t.test('releaseIdle answers what is queued, then releases the rest empty', async (t) => {
  const h = new HeldReplies<number>()
  const a = h.hold()
  const b = h.hold()
  h.offer(7)
  h.releaseIdle()
  t.same(await a, [7])
  t.same(await b, [])
  t.same(h.stats(), { repliedBatches: 1, releasedEmpty: 1, held: 0 })
})

t.test('only requests held too long are released by age', async (t) => {
  let now = 1000
  const h = new HeldReplies<number>(() => now)
  const old = h.hold()
  now = 1100
  h.hold()
  let oldAnswer: number[] | null = null
  void old.then((v) => (oldAnswer = v))
  h.releaseOlderThan(50)
  await turn()
  t.same(oldAnswer, [])
  t.equal(h.stats().held, 1, 'the younger one is still held')
})

t.test('a release answers queued items first: nothing offered is lost or sent twice', async (t) => {
  const h = new HeldReplies<number>(() => 0)
  const a = h.hold()
  h.offer(1)
  h.offer(2)
  h.releaseOlderThan(-1)
  t.same(await a, [1, 2], 'the held request still takes them')
  await turn()
  t.same(h.stats(), { repliedBatches: 1, releasedEmpty: 0, held: 0 }, 'and nothing is answered twice')
  t.notOk(h.offer(3), 'nothing held any more: the caller sends 3 itself')
})
