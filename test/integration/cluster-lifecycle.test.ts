// Three real node processes on loopback: agreement on a leader, the two
// rate routes on every node, bad input, kill -9 of the leader, restart and
// catch-up, and a full-cluster restart. Every client operation is recorded
// and the history is checked for linearizability at the end.
import t from 'tap'
import { admittedIncrement, checkHistory, tokenBucketModel } from '../../src/check/index.js'
import { startCluster, waitFor, type ProcCluster } from '../../scripts/cluster-proc.js'
import { agreedLeaderTerm, getJson, nodeStatus } from './http-helpers.js'
import { RecordedClient } from './recorded-client.js'

// One token a day: nothing refills during the test, so remaining_quota is an exact count.
const BURST = 20
const POLICY = { refill: 1, windowMs: 86_400_000, burst: BURST }
const ENV = { RATE_LIMIT: '1', RATE_LIMIT_WINDOW_SEC: '86400', RATE_LIMIT_BURST: String(BURST), LOG_LEVEL: 'warn' }

const recorder = new RecordedClient()
const history = recorder.history

/** An increment recorded in the history; its HTTP status, or -1 when no answer came. */
async function increment(c: ProcCluster, name: string, key: string, client: string): Promise<number> {
  return (await recorder.increment(c.url(name), key, client))?.status ?? -1
}

/** A check recorded in the history; remaining_quota, or null when it failed. */
async function check(c: ProcCluster, name: string, key: string, client: string): Promise<number | null> {
  const r = await recorder.check(c.url(name), key, client)
  return r?.status === 200 ? Number(r.body['remaining_quota']) : null
}

t.test('a three-process cluster', async (t) => {
  const c = await startCluster({ nodes: 3, env: ENV })
  t.teardown(() => c.stop({ removeData: true }))
  const started = performance.now()
  const names = c.names

  await t.test('every node names the same leader and term within 3 s of start', async (t) => {
    // "Start" is when every process is up and listening: booting Node and
    // loading the modules takes 0.5 s for one process alone and 1-3 s for three
    // at once on two busy cores, which says nothing about the cluster itself.
    await waitFor(async () => {
      const up = await Promise.all(names.map((n) => fetch(`${c.url(n)}/healthz`).then((r) => r.ok, () => false)))
      return up.every(Boolean)
    }, 15_000, { intervalMs: 20 })
    const listening = performance.now()
    const agreed = await waitFor(() => agreedLeaderTerm(c, names), 10_000, { intervalMs: 20 })
    const elapsed = performance.now() - listening
    t.ok(agreed !== null, `leader ${agreed?.leader} in term ${agreed?.term}`)
    t.ok(elapsed < 3000, `agreed ${Math.round(elapsed)} ms after all nodes listened (${Math.round(performance.now() - started)} ms after spawning)`)
    await c.waitReady(5000)
  })

  await t.test('increments on every node drain one bucket; checks agree everywhere', async (t) => {
    const key = 'client-1'
    let okCount = 0
    let i = 0
    for (;;) {
      const name = names[i++ % names.length] as string
      const r = await recorder.increment(c.url(name), key, 'seq')
      if (r === null) throw new Error(`${name}: no answer`)
      if (r.status === 200) {
        t.equal(r.body['result'], true)
        t.equal(r.body['remaining_quota'], BURST - okCount - 1, `${name}: remaining counts down`)
        t.equal(r.headers.get('x-ratelimit-remaining'), String(BURST - okCount - 1))
        okCount++
        continue
      }
      t.equal(r.status, 429, `${name}: blocked once empty`)
      t.equal(r.body['result'], false)
      t.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After set')
      break
    }
    t.equal(okCount, BURST, 'exactly the burst was admitted across three nodes')
    for (const name of names) {
      const remaining = await check(c, name, key, `reader-${name}`)
      t.equal(remaining, 0, `${name} reports remaining_quota 0`)
    }
    const fresh = await getJson(`${c.url('node-2')}/rate/check?client_id=never-seen`)
    t.same(fresh.body['result'], true)
    t.equal(fresh.body['remaining_quota'], BURST, 'an unseen client has a full bucket')
  })

  await t.test('bad input gets 400 with an error code, never a 500', async (t) => {
    const long = 'x'.repeat(300)
    const cases: [string, string][] = [
      ['', 'INVALID_CLIENT_ID'],
      ['client_id=', 'INVALID_CLIENT_ID'],
      [`client_id=${long}`, 'INVALID_CLIENT_ID'],
      ['client_id=a&cost=abc', 'INVALID_COST'],
      ['client_id=a&cost=0', 'INVALID_COST'],
      [`client_id=a&cost=${BURST + 1}`, 'COST_EXCEEDS_BURST'],
    ]
    for (const [query, code] of cases) {
      for (const name of names) {
        const r = await getJson(`${c.url(name)}/rate/increment?${query}`, { method: 'POST' })
        t.equal(r.status, 400, `${name} ${query.slice(0, 30)} → 400`)
        t.equal(r.body['error'], code)
      }
    }
    const after = await getJson(`${c.url('node-1')}/rate/check?client_id=a`)
    t.equal(after.status, 200, 'still serving')
    t.equal(after.body['remaining_quota'], BURST, 'bad requests spent nothing')
  })

  await t.test('a retried request_id returns the first answer and spends nothing twice', async (t) => {
    const key = 'idempotent-client'
    // Retries of one request id are one operation in the history: only the first is recorded.
    const first = await recorder.increment(c.url('node-1'), key, 'idem', { query: '&request_id=req-1' })
    if (first === null) throw new Error('node-1: no answer')
    t.equal(first.status, 200)
    t.equal(first.body['remaining_quota'], BURST - 1)
    for (const name of names) {
      const again = await getJson(`${c.url(name)}/rate/increment?client_id=${key}`, { method: 'POST', headers: { 'idempotency-key': 'req-1' } })
      t.same(again.body, first.body, `${name}: the retry gets the first answer`)
    }
    const remaining = await check(c, 'node-3', key, 'idem-reader')
    t.equal(remaining, BURST - 1, 'spent once')
  })

  await t.test('/metrics on every node: its peer links, the leader\'s follower lag, process metrics', async (t) => {
    const agreed = await agreedLeaderTerm(c, names)
    if (agreed === null) return t.fail('no agreed leader')
    const series = (text: string, name: string, peer: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{peer="${peer}"} `))
      return line === undefined ? undefined : Number(line.split(' ')[1])
    }
    const scrape = async (): Promise<Map<string, string>> =>
      new Map(await Promise.all(names.map(async (n) => [n, await (await fetch(`${c.url(n)}/metrics`)).text()] as const)))
    // A node that boots late loses what its peers sent before it listened
    // (Raft resends it); from then on, with every node up, nothing may drop.
    const before = await scrape()
    for (let i = 0; i < 6; i++) t.equal(await increment(c, names[i % 3] as string, 'metrics-key', 'metrics'), 200)
    const after = await scrape()
    for (const name of names) {
      const text = after.get(name) ?? ''
      t.match(text, /^process_resident_memory_bytes \d+/m, `${name}: process metrics`)
      t.match(text, /^nodejs_eventloop_lag_seconds /m, `${name}: event-loop lag`)
      for (const peer of names.filter((n) => n !== name)) {
        // Every link, follower to follower too: those carry nothing between
        // elections, so one that failed at boot recovers by its own retry.
        t.equal(series(text, 'ratelimiter_peer_reachable', peer), 1, `${name} → ${peer} reachable`)
        const dropped = series(before.get(name) ?? '', 'ratelimiter_peer_messages_dropped_total', peer)
        t.type(dropped, 'number', `${name} counts what it drops to ${peer}`)
        t.equal(series(text, 'ratelimiter_peer_messages_dropped_total', peer), dropped, `${name} → ${peer} dropped nothing while every node was up`)
      }
      if (name === agreed.leader) {
        for (const peer of names.filter((n) => n !== name)) {
          t.ok((series(text, 'ratelimiter_peer_frames_sent_total', peer) ?? 0) > 0, `the leader sent frames to ${peer}`)
          t.type(series(text, 'ratelimiter_raft_peer_lag_entries', peer), 'number', `the leader reports ${peer}'s lag`)
        }
      } else {
        t.ok((series(text, 'ratelimiter_peer_frames_sent_total', agreed.leader) ?? 0) > 0, `${name} sent frames to the leader`)
        t.notMatch(text, /^ratelimiter_raft_peer_lag_entries\{/m, `${name} is a follower: no lag series`)
      }
    }
  })

  await t.test('kill -9 of the leader: a new leader within 2 s, nothing acknowledged lost', async (t) => {
    const before = await agreedLeaderTerm(c, names)
    if (before === null) throw new Error('no agreed leader')
    const key = 'failover-key'
    // Some acknowledged increments before the crash.
    let acked = 0
    for (let i = 0; i < 5; i++) if ((await increment(c, names[i % 3] as string, key, 'pre')) === 200) acked++
    t.equal(acked, 5)

    const survivors = names.filter((n) => n !== before.leader)
    const killedAt = performance.now()
    await c.killNode(before.leader, 'SIGKILL')
    // Clients keep going through the survivors while the election runs.
    // The bucket holds BURST tokens; a few clients at a modest pace keep it from running dry.
    const stop = { done: false }
    const clients = survivors.map(async (name, k) => {
      while (!stop.done) {
        await increment(c, name, key, `client-${k}`)
        await new Promise((r) => setTimeout(r, 150))
      }
    })
    const next = await waitFor(async () => {
      const a = await agreedLeaderTerm(c, survivors)
      return a !== null && a.leader !== before.leader ? a : null
    }, 10_000, { intervalMs: 20 })
    const electedAfter = performance.now() - killedAt
    t.ok(electedAfter < 2000, `new leader ${next?.leader} after ${Math.round(electedAfter)} ms`)
    t.ok((next?.term ?? 0) > before.term, 'in a later term')
    await new Promise((r) => setTimeout(r, 300))
    stop.done = true
    await Promise.all(clients)
    for (const name of survivors) {
      const code = await increment(c, name, `after-failover-${name}`, 'post')
      t.equal(code, 200, `increments through survivor ${name} succeed`)
    }

    const ops = history.filter((o) => o.key === key && o.kind === 'increment')
    const admitted = ops.filter(admittedIncrement).length
    const unknown = ops.filter((o) => o.outcome === 'unknown').length
    for (const name of survivors) {
      const remaining = await check(c, name, key, `reader-${name}`)
      t.ok(remaining !== null && remaining <= BURST - admitted, `${name}: every acknowledged increment counted (${remaining} <= ${BURST - admitted})`)
      t.ok(remaining !== null && remaining >= BURST - admitted - unknown, `${name}: nothing spent beyond acked + unknown`)
    }
  })

  await t.test('the killed node, restarted, catches up to the same applied index', async (t) => {
    const down = names.filter((n) => !c.running().includes(n))
    t.equal(down.length, 1)
    await c.startNode(down[0] as string)
    await c.waitReady(10_000)
    const equal = await waitFor(async () => {
      const all = await Promise.all(names.map((n) => nodeStatus(c, n)))
      if (all.some((s) => s === null)) return null
      const applied = new Set(all.map((s) => s?.applied_index))
      return applied.size === 1 ? all : null
    }, 10_000, { intervalMs: 50 })
    t.ok(equal !== null, `applied index ${equal?.[0]?.applied_index} on all nodes`)
    const remaining = await Promise.all(names.map((n) => check(c, n, 'failover-key', `reader-${n}`)))
    t.equal(new Set(remaining).size, 1, `same remaining_quota everywhere: ${remaining.join(',')}`)
  })

  await t.test('stopping all three and starting them again keeps every bucket', async (t) => {
    const keys = ['client-1', 'failover-key', 'full-restart']
    for (let i = 0; i < 3; i++) await increment(c, 'node-1', 'full-restart', 'pre-restart')
    const before = await Promise.all(keys.map((k) => check(c, 'node-1', k, 'pre-restart')))
    // A crash of everyone at once: no graceful shutdown for anyone.
    await Promise.all(names.map((n) => c.killNode(n, 'SIGKILL')))
    for (const n of names) await c.startNode(n)
    await c.waitReady(15_000)
    for (const n of names) {
      const after = await Promise.all(keys.map((k) => check(c, n, k, `post-restart-${n}`)))
      t.same(after, before, `${n} has every bucket back: ${after.join(',')}`)
    }
  })

  await t.test('SIGTERM on the leader under load hands leadership over: no 503, no election timeout', async (t) => {
    const before = await agreedLeaderTerm(c, names)
    if (before === null) throw new Error('no agreed leader')
    const others = names.filter((n) => n !== before.leader)
    const codes: number[] = []
    const stop = { done: false }
    const clients = others.map(async (name, k) => {
      while (!stop.done) {
        codes.push(await increment(c, name, `sigterm-${k}-${codes.length % 50}`, `sigterm-${k}`))
      }
    })
    await new Promise((r) => setTimeout(r, 300))
    const sentAt = performance.now()
    const exit = c.stopNode(before.leader, 10_000)
    const next = await waitFor(async () => {
      const a = await agreedLeaderTerm(c, others)
      return a !== null && a.leader !== before.leader ? a : null
    }, 10_000, { intervalMs: 10 })
    const movedAfter = performance.now() - sentAt
    const r = await exit
    await new Promise((r) => setTimeout(r, 300))
    stop.done = true
    await Promise.all(clients)
    t.equal(r.code, 0, 'the old leader exits with code 0')
    t.equal(next?.term, before.term + 1, 'exactly one new term: no competing elections')
    t.ok(movedAfter < 500, `leadership moved after ${Math.round(movedAfter)} ms, below the 500 ms minimum election timeout`)
    t.ok(codes.length > 10, `${codes.length} requests during the handover`)
    t.same(codes.filter((x) => x !== 200 && x !== 429), [], 'no client saw an error')
  })

  await t.test('the recorded history is linearizable', async (t) => {
    const res = checkHistory(history, tokenBucketModel(POLICY))
    t.equal(res.ok, true, JSON.stringify(res).slice(0, 500))
    t.ok(history.length > 40, `${history.length} operations checked`)
  })
})
