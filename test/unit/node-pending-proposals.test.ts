import t from 'tap'
import { PendingProposals } from '../../src/node/pending-proposals.js'
import type { CommandBatch, Decision } from '../../src/ratelimit/index.js'

const policy = { refill: 1, windowMs: 1000, burst: 5 }

interface TestWaiter {
  readonly name: string
  readonly deadline: number
  readonly resolve: (v: never) => void
  readonly reject: (err: unknown) => void
}

function setup(): { pending: PendingProposals<TestWaiter>; log: string[]; waiter: (name: string, deadline?: number) => TestWaiter } {
  const log: string[] = []
  const pending = new PendingProposals<TestWaiter>((w, d) => log.push(`${w.name}=${d === null ? 'null' : d.remaining}`))
  const waiter = (name: string, deadline = 100): TestWaiter => ({
    name,
    deadline,
    resolve: () => log.push(`${name} resolved`),
    reject: (err) => log.push(`${name} rejected ${String(err)}`),
  })
  return { pending, log, waiter }
}

function batchOf(...keys: string[]): CommandBatch {
  return { stamp: 1, policy, items: keys.map((key) => ({ key, cost: 1 })) }
}

function decisions(...remaining: number[]): Decision[] {
  return remaining.map((r) => ({ admitted: true, remaining: r, retryAfterMs: 0, resetMs: 0, policy, duplicate: false }))
}

t.test('each item of an applied entry gets its own decision, in order', async (t) => {
  const { pending, log, waiter } = setup()
  const batch = batchOf('a', 'b', 'c')
  pending.add(7, 2, batch, [waiter('a'), waiter('b'), waiter('c')])
  t.equal(pending.batchAt(7, 2), batch, 'the leader applies what it encoded')
  pending.settle(7, 2, decisions(4, 3, 2))
  t.same(log, ['a=4', 'b=3', 'c=2'])
  t.equal(pending.size, 0)
  pending.settle(7, 2, decisions(0, 0, 0))
  t.same(log, ['a=4', 'b=3', 'c=2'], 'settled once only')
})

t.test('an entry applied in another term was replaced: every item gets null and the batch is not reused', async (t) => {
  const { pending, log, waiter } = setup()
  pending.add(3, 1, batchOf('a', 'b'), [waiter('a'), waiter('b')])
  t.equal(pending.batchAt(3, 2), undefined, 'another term at this index is another entry')
  pending.settle(3, 2, decisions(1, 1))
  t.same(log, ['a=null', 'b=null'])
})

t.test('a skipped entry (no decisions) answers null', async (t) => {
  const { pending, log, waiter } = setup()
  pending.add(3, 1, batchOf('a'), [waiter('a')])
  pending.settle(3, 1, null)
  t.same(log, ['a=null'])
})

t.test('waiters expire one by one; the rest of the entry is still answered', async (t) => {
  const { pending, log, waiter } = setup()
  pending.add(5, 1, batchOf('a', 'b'), [waiter('a', 10), waiter('b', 50)])
  pending.expire(20, (w) => w.reject('late'))
  t.same(log, ['a rejected late'])
  t.equal(pending.size, 1)
  pending.settle(5, 1, decisions(4, 3))
  t.same(log, ['a rejected late', 'b=3'], 'the expired one is not answered again')
  pending.add(6, 1, batchOf('c'), [waiter('c', 10)])
  pending.expire(20, (w) => w.reject('late'))
  t.equal(pending.size, 0, 'an entry with no live waiter is dropped')
})

t.test('a snapshot rejects the entries it covers; shutdown rejects all', async (t) => {
  const { pending, log, waiter } = setup()
  pending.add(1, 1, batchOf('a', 'b'), [waiter('a'), waiter('b')])
  pending.add(2, 1, batchOf('c'), [waiter('c')])
  pending.rejectThrough(1, 'snap')
  t.same(log, ['a rejected snap', 'b rejected snap'])
  t.ok(pending.has(2))
  pending.rejectAll('stop')
  t.same(log.slice(2), ['c rejected stop'])
  t.equal(pending.size, 0)
})

t.test('refuses waiters that do not match the items', async (t) => {
  const { pending, waiter } = setup()
  t.throws(() => pending.add(1, 1, batchOf('a', 'b'), [waiter('a')]), /1 waiters for 2 items/)
})
