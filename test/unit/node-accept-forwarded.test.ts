// The leader side of a forwarded batch answers from inside the apply that
// decides its last increment, so the answer can share a peer frame with the
// append that follows. A one-node cluster with a real driver.
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RateLimiterNode } from '../../src/node/rate-limiter-node.js'
import type { IncrementInput } from '../../src/service.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import { startSilentNode } from '../support/silent-node.js'
import type { ForwardOutcome } from '../../src/transport/port.js'

async function oneNode(t: Test, voters: string[]): Promise<{ node: RateLimiterNode; inApply: () => boolean }> {
  let applying = false
  const node = await startSilentNode(t, {
    voters,
    store: new MemoryLogStore(),
    requestTimeoutMs: 5000,
    hooks: (node) => ({
      onApply: (entries) => {
        applying = true
        try {
          return node.onApply(entries)
        } finally {
          applying = false
        }
      },
    }),
  })
  return { node, inApply: () => applying }
}

t.test('answers once, from inside the apply, one outcome per input in order', async (t) => {
  const { node, inApply } = await oneNode(t, ['n1'])
  for (let i = 0; i < 200 && !node.isReady(); i++) await sleep(5)
  t.ok(node.isReady(), 'n1 leads')
  const inputs: IncrementInput[] = [
    { clientId: 'a', cost: 1 },
    { clientId: 'b', cost: 11 },
    { clientId: 'a', cost: 2, requestId: 'r-1' },
  ]
  const calls: { outcomes: ForwardOutcome[]; duringApply: boolean }[] = []
  node.acceptForwarded(inputs, (outcomes) => calls.push({ outcomes, duringApply: inApply() }))
  for (let i = 0; i < 200 && calls.length === 0; i++) await sleep(5)
  await sleep(20)
  t.equal(calls.length, 1, 'answered once')
  const [call] = calls
  t.equal(call?.duringApply, true, 'from inside the apply')
  t.same(
    call?.outcomes.map((o) => (o.ok ? `ok:${o.decision.remaining}` : o.code)),
    ['ok:9', 'COST_EXCEEDS_BURST', 'ok:7'],
  )
})

t.test('a node that does not lead answers NO_LEADER for each, at once', async (t) => {
  const { node } = await oneNode(t, ['n1', 'n2', 'n3'])
  let answered: ForwardOutcome[] | null = null
  node.acceptForwarded([{ clientId: 'a', cost: 1 }, { clientId: 'b', cost: 1 }], (o) => (answered = o))
  t.same(answered, [{ ok: false, code: 'NO_LEADER' }, { ok: false, code: 'NO_LEADER' }])
})
