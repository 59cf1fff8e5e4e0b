// FAULTS.md 17: the leader is paused (SIGSTOP) for three election timeouts
// while clients keep using the cluster, then resumed. The survivors elect a
// new leader; requests that reached the paused node wait in its sockets and
// are served only once it runs again, by then a node whose state and term are
// stale. It must not acknowledge a write the new leader does not hold, nor
// answer a check with a count older than the writes acknowledged before the
// check was sent. Every operation is recorded and the history checked.
import t from 'tap'
import { admittedIncrement, checkHistory, tokenBucketModel } from '../../src/check/index.js'
import { startCluster, waitFor } from '../../scripts/cluster-proc.js'
import { agreedLeaderTerm, nodeStatus } from './http-helpers.js'
import { RecordedClient } from './recorded-client.js'

// No refill during the test, so remaining_quota is an exact count of what was spent.
const BURST = 5000
const POLICY = { refill: 1, windowMs: 86_400_000, burst: BURST }
const ENV = { RATE_LIMIT: '1', RATE_LIMIT_WINDOW_SEC: '86400', RATE_LIMIT_BURST: String(BURST), LOG_LEVEL: 'warn' }
const KEY = 'paused-leader'
/** Three of the longest election timeouts (ELECTION_TICKS 10 of TICK_MS 50, randomised up to twice that). */
const PAUSE_MS = 3000
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

t.test('a leader paused for three election timeouts, then resumed', async (t) => {
  const c = await startCluster({ nodes: 3, env: ENV })
  let paused: string | null = null
  t.teardown(async () => {
    // A stopped process takes no SIGTERM: resume it first so it can stop cleanly.
    if (paused !== null) c.node(paused).kill('SIGCONT')
    await c.stop({ removeData: true })
  })
  await c.waitReady(20_000)
  const before = await waitFor(() => agreedLeaderTerm(c, c.names), 20_000, { intervalMs: 50 })
  if (before === null) throw new Error('no agreed leader')
  const old = before.leader
  const survivors = c.names.filter((n) => n !== old)
  const client = new RecordedClient()

  // Two writers on the survivors all along: before, during and after the pause.
  const stop = { done: false }
  const writers = survivors.map(async (name, k) => {
    while (!stop.done) {
      await client.increment(c.url(name), KEY, `writer-${k}`)
      await sleep(20)
    }
  })
  await sleep(300)

  c.node(old).kill('SIGSTOP')
  paused = old
  const pausedAt = performance.now()
  const next = await waitFor(async () => {
    const a = await agreedLeaderTerm(c, survivors)
    return a !== null && a.leader !== old ? a : null
  }, PAUSE_MS, { intervalMs: 20 })
  t.ok(next !== null, `the survivors elected ${next?.leader} in term ${next?.term} while ${old} was paused`)
  if (next === null) return

  // Writes the new leader acknowledges, then requests to the paused node: they
  // wait in its sockets and are the first thing it serves when it resumes.
  const acked = (): number => client.history.filter((o) => admittedIncrement(o) && o.ret > pausedAt).length
  await waitFor(() => acked() >= 10, PAUSE_MS, { intervalMs: 10 })
  const probes: { kind: 'check' | 'increment'; spentBefore: number; status: number | null; remaining: number }[] = []
  const sent: Promise<void>[] = []
  for (let i = 0; i < 4; i++) {
    // Every increment answered 200 before this point is spent: none may be missing from a check sent now.
    const spentBefore = client.history.filter(admittedIncrement).length
    const kind = i % 2 === 0 ? 'check' : 'increment'
    sent.push(
      (kind === 'check' ? client.check(c.url(old), KEY, `probe-${i}`, { timeoutMs: 10_000 }) : client.increment(c.url(old), KEY, `probe-${i}`, { timeoutMs: 10_000 })).then((r) => {
        probes.push({ kind, spentBefore, status: r?.status ?? null, remaining: Number(r?.body['remaining_quota']) })
      }),
    )
    await sleep(100)
  }
  await sleep(Math.max(0, PAUSE_MS - (performance.now() - pausedAt)))
  t.equal((await nodeStatus(c, old)), null, `${old} answers nothing while paused`)

  c.node(old).kill('SIGCONT')
  paused = null
  await Promise.all(sent)
  await sleep(500)
  stop.done = true
  await Promise.all(writers)

  await t.test('the resumed node serves nothing stale', async (t) => {
    t.equal(probes.length, 4)
    for (const p of probes) {
      if (p.status !== 200) continue
      if (p.kind === 'check') {
        t.ok(p.remaining <= BURST - p.spentBefore, `a check sent to ${old} while paused counts the ${p.spentBefore} increments acknowledged before it (remaining ${p.remaining})`)
      }
    }
    const answered = probes.filter((p) => p.status === 200).length
    t.ok(answered > 0, `${answered} of 4 requests sent to the paused node were answered after it resumed (statuses: ${probes.map((p) => p.status).join(',')})`)
  })

  await t.test('the old leader follows the new one; no election on resume', async (t) => {
    const after = await waitFor(() => agreedLeaderTerm(c, c.names), 5000, { intervalMs: 50 })
    t.same(after, next, `every node names ${next.leader} in term ${next.term}`)
    const status = await nodeStatus(c, old)
    t.equal(status?.role, 'follower')
  })

  await t.test('every node ends with the same state; nothing acknowledged lost; the history is linearizable', async (t) => {
    const equal = await waitFor(async () => {
      const all = await Promise.all(c.names.map((n) => nodeStatus(c, n, true)))
      if (all.some((s) => s === null)) return null
      return new Set(all.map((s) => `${s?.applied_index}/${s?.state_hash}`)).size === 1 ? all : null
    }, 10_000, { intervalMs: 50 })
    t.ok(equal !== null, `applied index ${equal?.[0]?.applied_index} and state hash equal on every node`)
    const increments = client.history.filter((o) => o.kind === 'increment')
    const admitted = increments.filter(admittedIncrement).length
    const unknown = increments.filter((o) => o.outcome === 'unknown').length
    for (const name of c.names) {
      const r = await client.check(c.url(name), KEY, `reader-${name}`)
      const remaining = Number(r?.body['remaining_quota'])
      t.ok(remaining <= BURST - admitted && remaining >= BURST - admitted - unknown, `${name}: ${remaining} left of ${BURST}, ${admitted} acknowledged, ${unknown} unknown`)
    }
    const res = checkHistory(client.history, tokenBucketModel(POLICY))
    t.equal(res.ok, true, JSON.stringify(res).slice(0, 500))
    t.ok(client.history.length > 100, `${client.history.length} operations checked`)
  })
})
