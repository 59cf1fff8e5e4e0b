// Snapshots with real processes: the log is compacted under load, a node whose
// data directory is wiped rejoins through InstallSnapshot (surviving a kill in
// the middle of the transfer) and ends with the same state hash, and nothing
// acknowledged is lost on the way.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { startCluster, waitFor } from '../../scripts/cluster-proc.js'
import { LevelLogStore } from '../../src/storage/level-log-store.js'
import { agreedLeader, getJson, nodeStatus, pool, type NodeStatus } from './http-helpers.js'

const BURST = 1000
const SNAPSHOT_ENTRIES = 200
const ENV = {
  RATE_LIMIT: '1',
  RATE_LIMIT_WINDOW_SEC: '86400',
  RATE_LIMIT_BURST: String(BURST),
  SNAPSHOT_ENTRIES: String(SNAPSHOT_ENTRIES),
  // Tiny chunks make a transfer of a few hundred KB take long enough to kill it midway.
  SNAPSHOT_CHUNK_BYTES: '1024',
  LOG_LEVEL: 'warn',
}
// Many distinct client ids make the state (and so the snapshot) large.
const KEYS = 4000

t.test('snapshots, compaction and rejoining after a wiped data dir', async (t) => {
  const c = await startCluster({ nodes: 3, env: ENV, nodeEnv: { 'node-3': { INITIAL_CLUSTER_STATE: 'existing' } } })
  t.teardown(() => c.stop({ removeData: true }))
  const names = c.names
  const leader = await waitFor(() => agreedLeader(c, names), 20_000, { intervalMs: 50 })
  await c.waitReady(20_000)
  t.ok(leader, `leader ${leader}`)

  // Load: one increment per key, spread over the nodes; one counted key takes a known number.
  let acked = 0
  await pool(Array.from({ length: KEYS }, (_, i) => i), 32, async (i) => {
    const r = await getJson(`${c.url(names[i % 3] as string)}/rate/increment?client_id=k${i}`, { method: 'POST' })
    if (r.status !== 200) throw new Error(`increment k${i}: HTTP ${r.status} ${JSON.stringify(r.body)}`)
  })
  for (let i = 0; i < 50; i++) {
    const r = await getJson(`${c.url(names[i % 3] as string)}/rate/increment?client_id=counted`, { method: 'POST' })
    if (r.status === 200) acked++
  }
  t.equal(acked, 50)

  await t.test('every node compacted its log: it starts after a snapshot and stays short', async (t) => {
    for (const name of names) {
      const s = (await waitFor(async () => {
        const st = await nodeStatus(c, name)
        return st !== null && st.snapshot_index > 0 ? st : null
      }, 10_000)) as NodeStatus
      t.ok(s.first_index === s.snapshot_index + 1, `${name}: log starts at ${s.first_index}, right after snapshot ${s.snapshot_index}`)
      // The next snapshot comes after max(SNAPSHOT_ENTRIES, state size) entries.
      const bound = Math.max(SNAPSHOT_ENTRIES, s.buckets + 100) + 1000
      t.ok(s.last_index - s.snapshot_index < bound, `${name}: ${s.last_index - s.snapshot_index} entries after the snapshot (bound ${bound})`)
    }
  })

  const dataDir = c.env['node-3']?.DATA_DIR as string
  let transferKilled = false

  await t.test('a wiped follower rejoins via InstallSnapshot, surviving a kill mid-transfer', async (t) => {
    await c.killNode('node-3')
    fs.rmSync(dataDir, { recursive: true, force: true })
    const leaderName = (await agreedLeader(c, ['node-1', 'node-2'])) as string

    // Watch the leader's view of node-3 and kill node-3 while a snapshot is on its way.
    for (let attempt = 0; attempt < 5 && !transferKilled; attempt++) {
      await c.startNode('node-3')
      const seen = await waitFor(async () => {
        const st = await nodeStatus(c, leaderName)
        const p = st?.peers.find((x) => x.id === 'node-3')
        return p?.state === 'snapshot' ? p : null
      }, 15_000, { intervalMs: 2 }).catch(() => null)
      if (seen === null) continue
      await c.killNode('node-3')
      // Did the kill land before the snapshot was stored? Then nothing of it may be on disk.
      const store = new LevelLogStore(dataDir)
      const loaded = await store.load()
      await store.close()
      if (loaded.snapshot === null) {
        transferKilled = true
        t.equal(loaded.entries.length, 0, 'killed mid-transfer: no entries, no snapshot, nothing half-installed')
      } else {
        // It completed first: wipe again and retry the race.
        fs.rmSync(dataDir, { recursive: true, force: true })
      }
    }
    t.ok(transferKilled, 'node-3 was killed while receiving a snapshot')

    await c.startNode('node-3')
    await c.waitReady(30_000, ['node-3'])
    const s3 = (await waitFor(async () => {
      const st = await nodeStatus(c, 'node-3')
      return st !== null && st.snapshot_index > 0 ? st : null
    }, 30_000)) as NodeStatus
    t.ok(s3.snapshot_index > 0, `node-3 restored snapshot ${s3.snapshot_index}`)
  })

  await t.test('all three nodes end with the same applied index and state hash; nothing lost', async (t) => {
    // A write after the rejoin, so every node has something to apply after the snapshot.
    const after = await getJson(`${c.url('node-3')}/rate/increment?client_id=counted`, { method: 'POST' })
    t.equal(after.status, 200)
    t.equal(after.body['remaining_quota'], BURST - acked - 1, 'node-3 (rejoined) counts every earlier increment')
    const same = await waitFor(async () => {
      const all = await Promise.all(names.map((n) => nodeStatus(c, n, true)))
      if (all.some((s) => s === null)) return null
      const [a, b, d] = all as [NonNullable<(typeof all)[0]>, NonNullable<(typeof all)[0]>, NonNullable<(typeof all)[0]>]
      return a.applied_index === b.applied_index && b.applied_index === d.applied_index && a.state_hash === b.state_hash && b.state_hash === d.state_hash
        ? all
        : null
    }, 15_000, { intervalMs: 100 })
    t.ok(same, `applied ${same?.[0]?.applied_index} everywhere, state hash ${same?.[0]?.state_hash}`)
    for (const name of names) {
      const r = await getJson(`${c.url(name)}/rate/check?client_id=k${KEYS - 1}`)
      t.equal(r.body['remaining_quota'], BURST - 1, `${name}: one of the first ${KEYS} keys still shows its increment`)
    }
  })

  await t.test('a restart loads the snapshot and replays only the tail', async (t) => {
    const before = await nodeStatus(c, 'node-2')
    await c.stopNode('node-2')
    const started = performance.now()
    await c.startNode('node-2')
    await c.waitReady(20_000, ['node-2'])
    const ms = performance.now() - started
    const after = await nodeStatus(c, 'node-2')
    t.ok((after?.snapshot_index ?? 0) >= (before?.snapshot_index ?? 1), 'the snapshot survived the restart')
    t.ok(ms < 15_000, `ready ${Math.round(ms)} ms after the restart`)
    const r = await getJson(`${c.url('node-2')}/rate/check?client_id=counted`)
    t.equal(r.body['remaining_quota'], BURST - acked - 1)
  })

  if (t.passing() === false) t.comment(c.logs().split('\n').slice(-80).join('\n'))
  t.ok(fs.existsSync(path.join(dataDir)), 'data dir recreated by the rejoined node')
})
