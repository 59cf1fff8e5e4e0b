// A request the cluster cannot answer fails at its deadline, on a tick, with
// the code that says why: NO_LEADER when no leader was known, NO_QUORUM when
// the leader took it but could not commit it. A node with a real driver.
import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { isRateLimiterError } from '../../src/errors.js'
import type { RateLimiterNode } from '../../src/node/rate-limiter-node.js'
import { MemoryLogStore } from '../../src/storage/memory-log-store.js'
import type { LogStore } from '../../src/storage/port.js'
import { startSilentNode } from '../support/silent-node.js'

const TIMEOUT_MS = 120

/** A store whose writes hang from stall() until release(). */
function stallingStore(): { store: LogStore; stall: () => void; release: () => void } {
  const inner = new MemoryLogStore()
  let stalled = false
  let release: () => void = () => {}
  const hung = new Promise<void>((resolve) => (release = resolve))
  // Delegates each method, so the wrapped store keeps its own state.
  const store: LogStore = {
    load: () => inner.load(),
    save: (...args) => (stalled ? hung.then(() => inner.save(...args)) : inner.save(...args)),
    compact: (meta, lines) => inner.compact(meta, lines),
    loadSnapshot: () => inner.loadSnapshot(),
    close: () => inner.close(),
  }
  return { store, stall: () => (stalled = true), release: () => release() }
}

function startNode(t: Test, voters: string[], store: LogStore): Promise<RateLimiterNode> {
  return startSilentNode(t, { voters, store, requestTimeoutMs: TIMEOUT_MS })
}

/** The error code a promise rejects with, and after how long; 'still waiting' well past the deadline. */
async function failure(p: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = Date.now()
  const outcome = p.then(
    () => 'resolved',
    (err: unknown) => (isRateLimiterError(err) ? err.code : String(err)),
  )
  const code = await Promise.race([outcome, sleep(TIMEOUT_MS * 10).then(() => 'still waiting')])
  return { code, ms: Date.now() - started }
}

t.test('with no leader known, an increment and a check fail with NO_LEADER at their deadline', async (t) => {
  // n2 and n3 never answer, so n1 never learns of a leader.
  const node = await startNode(t, ['n1', 'n2', 'n3'], new MemoryLogStore())
  const [inc, check] = await Promise.all([failure(node.increment({ clientId: 'a', cost: 1 })), failure(node.check('a'))])
  t.equal(inc.code, 'NO_LEADER', 'increment')
  t.equal(check.code, 'NO_LEADER', 'check')
  for (const f of [inc, check]) t.ok(f.ms >= TIMEOUT_MS - 5 && f.ms < TIMEOUT_MS * 10, `failed at the deadline (${f.ms} ms)`)
})

t.test('a leader that cannot commit fails the increment with NO_QUORUM at its deadline, and later ones too', async (t) => {
  const { store, stall, release } = stallingStore()
  const node = await startNode(t, ['n1'], store)
  // Teardowns run newest first: this one before the driver's stop, which waits for the hung write.
  t.teardown(release)
  for (let i = 0; i < 200 && !node.isReady(); i++) await sleep(5)
  t.ok(node.isReady(), 'n1 leads')
  t.equal((await node.increment({ clientId: 'a', cost: 1 })).remaining, 9, 'commits while the store writes')
  stall()
  const first = await failure(node.increment({ clientId: 'a', cost: 1 }))
  t.equal(first.code, 'NO_QUORUM')
  t.ok(first.ms >= TIMEOUT_MS - 5 && first.ms < TIMEOUT_MS * 10, `failed at the deadline (${first.ms} ms)`)
  const [second, third] = await Promise.all([failure(node.increment({ clientId: 'b', cost: 1 })), failure(node.increment({ clientId: 'c', cost: 1 }))])
  t.same([second.code, third.code], ['NO_QUORUM', 'NO_QUORUM'], 'later increments fail the same way')
})
