// Growing a three-process cluster to five and shrinking it back to three,
// the leader included, one change at a time through the admin routes, while
// clients keep sending increments and checks to every member. Every client
// operation is recorded and the history is checked for linearizability: no
// acknowledged increment lost, no token spent twice, no over-admission.
import t from 'tap'
import { admittedIncrement, checkHistory, tokenBucketModel } from '../../src/check/index.js'
import { getFreePortBase, portsFor, RAFT_PORT_OFFSET, releasePorts, startCluster, waitFor, type ProcCluster } from '../../scripts/cluster-proc.js'
import { getJson, nodeStatus, type JsonReply, type NodeStatus } from './http-helpers.js'
import { RecordedClient } from './recorded-client.js'

// Nothing refills during the test, so remaining_quota is an exact count.
const BURST = 40
const POLICY = { refill: 1, windowMs: 86_400_000, burst: BURST }
const KEYS = Array.from({ length: 24 }, (_, i) => `member-key-${i}`)
const WORKERS = 4
const FOUNDERS = ['node-1', 'node-2', 'node-3']
const JOINERS = ['node-4', 'node-5']

interface Admin {
  status: number
  body: Record<string, unknown>
}

/** The members as one node's log has them. */
interface Membership extends NodeStatus {
  members: string[]
  learners: string[]
}

/** What clients saw per phase of the test: 200, 429, an error code, or 'no answer'. */
const codes = new Map<string, Map<string, number>>()
let phase = 'start'

function count(r: JsonReply | null): void {
  const what = r === null ? 'no answer' : r.status === 200 || r.status === 429 ? String(r.status) : `${r.status} ${String(r.body['error'])}`
  const m = codes.get(phase) ?? new Map<string, number>()
  codes.set(phase, m)
  m.set(what, (m.get(what) ?? 0) + 1)
}

const recorder = new RecordedClient(count)
const history = recorder.history

/**
 * Answers other than 200 and 429 that clients saw in `p`. REMOVED does not
 * count: a request already at a node when it learns of its removal is refused,
 * not applied, and a client sends it to another member.
 */
function errorsIn(p: string): number {
  let n = 0
  for (const [what, k] of codes.get(p) ?? []) if (what !== '200' && what !== '429' && what !== '503 REMOVED') n += k
  return n
}

async function increment(c: ProcCluster, name: string, key: string, client: number): Promise<void> {
  await recorder.increment(c.url(name), key, client)
}

async function check(c: ProcCluster, name: string, key: string, client: number): Promise<void> {
  await recorder.check(c.url(name), key, client)
}

async function admin(c: ProcCluster, via: string, method: 'POST' | 'DELETE', path: string): Promise<Admin> {
  const r = await getJson(`${c.url(via)}${path}`, { method, headers: { 'x-cluster-secret': c.env['node-1']?.CLUSTER_SECRET ?? '' } })
  return { status: r.status, body: r.body }
}

async function membership(c: ProcCluster, name: string): Promise<Membership | null> {
  return (await nodeStatus(c, name)) as Membership | null
}

/**
 * The node that leads, once every node of `among` that its own log still names
 * as a member agrees (a removed node hears from no leader any more).
 */
async function leaderOf(c: ProcCluster, among: readonly string[]): Promise<string> {
  return waitFor<string | undefined>(
    async () => {
      const all = await Promise.all(among.map((n) => membership(c, n)))
      const members = all.filter((s) => s !== null && (s.members.includes(s.node) || s.learners.includes(s.node)))
      const leader = members.find((s) => s?.role === 'leader')
      if (leader === undefined || leader === null) return undefined
      return members.every((s) => s !== null && s.leader === leader.node && s.term === leader.term) ? leader.node : undefined
    },
    20_000,
    { intervalMs: 100, message: `an agreed leader among ${among.join(', ')}` },
  )
}

/**
 * One membership change on the current leader, retried while the cluster is
 * busy (another change, a new leader). After an unknown outcome (503), the
 * answer that says "already done" counts as done.
 */
async function change(c: ProcCluster, members: readonly string[], method: 'POST' | 'DELETE', path: string, done: string): Promise<Admin> {
  let unknownBefore = false
  return waitFor<Admin | undefined>(
    async () => {
      const leader = await leaderOf(c, members)
      const r = await admin(c, leader, method, path)
      if (r.status === 200) return r
      process.stderr.write(`${method} ${path} via ${leader}: ${r.status} ${JSON.stringify(r.body)}\n`)
      if (unknownBefore && r.body['error'] === done) return r
      if (r.status === 503) unknownBefore = true
      if (r.status === 400 || r.status === 401 || r.status === 404) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
      return undefined
    },
    30_000,
    { intervalMs: 200, message: `${method} ${path}` },
  )
}

/** Waits until every listed node's log has exactly these voters and learners. */
async function agreeOn(c: ProcCluster, names: readonly string[], voters: readonly string[], learners: readonly string[]): Promise<void> {
  const want = JSON.stringify([[...voters].sort(), [...learners].sort()])
  await waitFor(
    async () => {
      const all = await Promise.all(names.map((n) => membership(c, n)))
      return all.every((s) => s !== null && JSON.stringify([[...s.members].sort(), [...s.learners].sort()]) === want)
    },
    20_000,
    { intervalMs: 100, message: `${names.join(', ')} agree on voters ${voters.join(', ')} and learners ${learners.join(', ') || '-'}` },
  )
}

t.test('3 → 5 → 3 members under load, the leader removed on the way', async (t) => {
  const basePort = await getFreePortBase({ nodes: 5 })
  t.teardown(() => releasePorts(portsFor(basePort, 5)))
  // The joiners' CLUSTERS names everyone (themselves included); the founders' only the founders.
  const founders = FOUNDERS.map((n, i) => `${n}=127.0.0.1:${basePort + RAFT_PORT_OFFSET + i + 1}`).join(',')
  const c = await startCluster({
    nodes: 5,
    basePort,
    start: FOUNDERS,
    env: { RATE_LIMIT: '1', RATE_LIMIT_WINDOW_SEC: '86400', RATE_LIMIT_BURST: String(BURST), LOG_LEVEL: 'info', SNAPSHOT_ENTRIES: '300' },
    nodeEnv: {
      'node-1': { CLUSTERS: founders },
      'node-2': { CLUSTERS: founders },
      'node-3': { CLUSTERS: founders },
      'node-4': { INITIAL_CLUSTER_STATE: 'existing' },
      'node-5': { INITIAL_CLUSTER_STATE: 'existing' },
    },
  })
  t.teardown(async () => {
    if (!t.passing()) t.comment(c.logs().slice(-30_000))
    await c.stop({ removeData: true })
  })
  await c.waitReady(20_000, FOUNDERS)
  await agreeOn(c, FOUNDERS, FOUNDERS, [])

  // Clients send to any node that is a member right now.
  let targets = [...FOUNDERS]
  let loading = true
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    for (let i = 0; loading; i++) {
      const name = targets[(i + w) % targets.length] as string
      const key = KEYS[(i * 7 + w * 5) % KEYS.length] as string
      if (i % 4 === 3) await check(c, name, key, w)
      else await increment(c, name, key, w)
    }
  })

  try {
    await t.test('an empty node with INITIAL_CLUSTER_STATE=existing waits, then joins as a learner and is promoted', async (t) => {
      phase = 'grow'
      for (const joiner of JOINERS) {
        await c.startNode(joiner)
        const before = await membership(c, joiner)
        t.ok(before === null || before.role === 'follower', `${joiner} does not campaign before it is added`)
        const members = targets.filter((n) => FOUNDERS.includes(n) || JOINERS.includes(n))
        const added = await change(c, members, 'POST', `/cluster/members?id=${joiner}&address=127.0.0.1:${c.env[joiner]?.RAFT_PORT ?? ''}`, 'MEMBER_EXISTS')
        t.equal(added.status, 200, `${joiner} added: ${JSON.stringify(added.body)}`)
        if (added.status === 200) t.ok((added.body['learners'] as string[]).includes(joiner), 'as a learner')
        await c.waitReady(30_000, [joiner])
        targets = [...targets, joiner]
        const promoted = await change(c, members, 'POST', `/cluster/members/${joiner}/promote`, 'NOT_LEARNER')
        t.equal(promoted.status, 200, `${joiner} promoted: ${JSON.stringify(promoted.body)}`)
      }
      const all = [...FOUNDERS, ...JOINERS]
      await agreeOn(c, all, all, [])
      t.pass('all five logs name five voters')
      t.equal(errorsIn('grow'), 0, `no client saw an error while the cluster grew: ${JSON.stringify([...(codes.get('grow') ?? [])])}`)
    })

    await t.test('removing the leader: it steps down once the change commits, the others elect a new one', async (t) => {
      phase = 'remove-leader'
      const all = [...FOUNDERS, ...JOINERS]
      const leader = await leaderOf(c, all)
      targets = targets.filter((n) => n !== leader)
      const r = await change(c, all, 'DELETE', `/cluster/members/${leader}`, 'NOT_MEMBER')
      t.equal(r.status, 200, `removed ${leader}: ${JSON.stringify(r.body)}`)
      const rest = all.filter((n) => n !== leader)
      const next = await leaderOf(c, rest)
      t.not(next, leader, `${next} leads now`)
      await agreeOn(c, rest, rest, [])
      const removed = await getJson(`${c.url(leader)}/rate/increment?client_id=x`, { method: 'POST' })
      t.equal(removed.body['error'], 'REMOVED', 'the removed node refuses rate requests')
      await c.stopNode(leader)
      // It hands over like a transfer: no election timeout, so no client waits it out.
      t.equal(errorsIn('remove-leader'), 0, `no client saw an error: ${JSON.stringify([...(codes.get('remove-leader') ?? [])])}`)
    })

    await t.test('removing a follower brings the cluster back to three', async (t) => {
      phase = 'remove-follower'
      const members = targets.slice()
      const leader = await leaderOf(c, members)
      const victim = members.find((n) => n !== leader) as string
      targets = targets.filter((n) => n !== victim)
      const r = await change(c, members, 'DELETE', `/cluster/members/${victim}`, 'NOT_MEMBER')
      t.equal(r.status, 200, `removed ${victim}`)
      await agreeOn(c, targets, targets, [])
      // The leader kept sending it the log until it held its own removal.
      await agreeOn(c, [victim], targets, [])
      const refused = await getJson(`${c.url(victim)}/rate/check?client_id=x`)
      t.equal(refused.body['error'], 'REMOVED', 'the removed follower knows it and refuses rate requests')
      await c.stopNode(victim)
      t.equal(targets.length, 3)
      t.equal(errorsIn('remove-follower'), 0, `no client saw an error: ${JSON.stringify([...(codes.get('remove-follower') ?? [])])}`)
    })

    await t.test('a member restarted with its old CLUSTERS takes the membership from its log', async (t) => {
      const founder = targets.find((n) => FOUNDERS.includes(n))
      t.ok(founder !== undefined, 'a founder is still a member')
      if (founder === undefined) return
      phase = 'restart'
      const members = targets
      // Clients go to the other two while it is down.
      targets = targets.filter((n) => n !== founder)
      await c.restartNode(founder)
      await c.waitReady(20_000, [founder])
      targets = members
      await agreeOn(c, targets, targets, [])
    })
  } finally {
    loading = false
    await Promise.all(workers)
  }

  await t.test('the remaining three agree on the state and the history is linearizable', async (t) => {
    const hashes = await waitFor(
      async () => {
        const all = (await Promise.all(targets.map((n) => nodeStatus(c, n, true)))) as (NodeStatus | null)[]
        if (all.some((s) => s === null)) return undefined
        const applied = new Set(all.map((s) => s?.applied_index))
        return applied.size === 1 ? all.map((s) => s?.state_hash) : undefined
      },
      20_000,
      { intervalMs: 200, message: 'equal applied index' },
    )
    t.equal(new Set(hashes).size, 1, 'one state hash')
    const res = checkHistory(history, tokenBucketModel(POLICY))
    t.equal(res.ok, true, JSON.stringify(res).slice(0, 800))
    const answered = history.filter((o) => o.outcome !== 'unknown').length
    const seen = [...codes].map(([p, m]) => `${p}: ${JSON.stringify([...m])}`).join('; ')
    t.ok(answered > 200, `${answered} answered operations of ${history.length} (status codes by phase: ${seen})`)
    const admitted = history.filter(admittedIncrement).length
    t.ok(admitted > 50, `${admitted} admitted increments checked`)
  })
})
