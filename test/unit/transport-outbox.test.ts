import t from 'tap'
import { setImmediate as nextMacrotask } from 'node:timers/promises'
import { Outbox } from '../../src/transport/outbox.js'

/** A post() the test resolves by hand, recording every batch it was given. */
function manualPost() {
  const batches: number[][] = []
  const pending: ((ok: boolean) => void)[] = []
  const post = (batch: number[]) => {
    batches.push(batch)
    return new Promise<boolean>((resolve) => pending.push(resolve))
  }
  const settleNext = async (ok = true) => {
    pending.shift()?.(ok)
    await nextMacrotask()
  }
  return { batches, pending, post, settleNext }
}

t.test('items enqueued in one tick leave as one batch', async (t) => {
  const p = manualPost()
  const box = new Outbox({ maxQueued: 100, maxInFlight: 2, maxBatch: 100, post: p.post })
  for (let i = 0; i < 10; i++) box.enqueue(i)
  t.equal(p.batches.length, 0, 'nothing is sent synchronously')
  await nextMacrotask()
  t.strictSame(p.batches, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]])
})

t.test('at most maxInFlight batches; the rest accumulate and go out together, in order', async (t) => {
  const p = manualPost()
  const box = new Outbox({ maxQueued: 100, maxInFlight: 2, maxBatch: 100, post: p.post })
  box.enqueue(0)
  await nextMacrotask()
  box.enqueue(1)
  await nextMacrotask()
  for (let i = 2; i < 6; i++) {
    box.enqueue(i)
    await nextMacrotask()
  }
  t.equal(p.batches.length, 2, 'third batch waits for a free slot')
  t.equal(box.stats().inFlight, 2)
  t.equal(box.stats().queued, 4)
  await p.settleNext()
  t.strictSame(p.batches, [[0], [1], [2, 3, 4, 5]])
  await p.settleNext(false)
  await p.settleNext()
  t.match(box.stats(), { sentBatches: 2, sentMessages: 5, failedBatches: 1, failedMessages: 1, queued: 0, inFlight: 0 })
})

t.test('maxBatch splits a long queue', async (t) => {
  const p = manualPost()
  const box = new Outbox({ maxQueued: 100, maxInFlight: 1, maxBatch: 3, post: p.post })
  for (let i = 0; i < 7; i++) box.enqueue(i)
  await nextMacrotask()
  await p.settleNext()
  await p.settleNext()
  t.strictSame(p.batches, [[0, 1, 2], [3, 4, 5], [6]])
})

t.test('the queue is bounded by dropping the oldest items', async (t) => {
  const p = manualPost()
  const box = new Outbox({ maxQueued: 5, maxInFlight: 1, maxBatch: 100, post: p.post })
  box.enqueue(-1)
  await nextMacrotask() // -1 is now in flight and blocks the slot
  for (let i = 0; i < 12; i++) box.enqueue(i)
  t.match(box.stats(), { queued: 5, droppedMessages: 7 })
  await p.settleNext()
  t.strictSame(p.batches[1], [7, 8, 9, 10, 11], 'the newest survive')
})

t.test('a rejecting post counts as a failure and does not stall the queue', async (t) => {
  let calls = 0
  const box = new Outbox<number>({
    maxQueued: 10, maxInFlight: 1, maxBatch: 1,
    post: () => (++calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(true)),
  })
  box.enqueue(1)
  box.enqueue(2)
  await nextMacrotask()
  await nextMacrotask()
  t.match(box.stats(), { failedBatches: 1, sentBatches: 1, inFlight: 0 })
})

t.test('close discards the queue and ignores later items', async (t) => {
  const p = manualPost()
  const box = new Outbox({ maxQueued: 10, maxInFlight: 1, maxBatch: 10, post: p.post })
  box.enqueue(1)
  await nextMacrotask()
  box.enqueue(2)
  box.close()
  box.enqueue(3)
  await p.settleNext()
  t.equal(p.batches.length, 1)
  t.equal(box.stats().queued, 0)
})

t.test('rejects nonsensical bounds', async (t) => {
  const post = () => Promise.resolve(true)
  t.throws(() => new Outbox({ maxQueued: 0, maxInFlight: 1, maxBatch: 1, post }))
  t.throws(() => new Outbox({ maxQueued: 1, maxInFlight: 1.5, maxBatch: 1, post }))
})
