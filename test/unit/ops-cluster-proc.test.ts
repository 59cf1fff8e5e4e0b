// scripts/cluster-proc.ts, driven with scripts/testing/fake-node.mjs in place
// of dist/main.js: processes get the cluster environment, logs are captured,
// and every process is stopped by its own pid.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  getFreePortBase,
  portsFor,
  releasePorts,
  REPO_ROOT,
  startCluster,
  startNode,
  waitFor,
} from '../../scripts/cluster-proc.js'
import { busyPorts } from '../../scripts/ports.mjs'
import { alive } from '../support/process.js'

const FAKE = path.join(REPO_ROOT, 'scripts', 'testing', 'fake-node.mjs')
const LOCK_DIR = path.join(os.tmpdir(), 'ratelimiter-ports')

async function getJson(url: string): Promise<Record<string, string>> {
  const res = await fetch(url)
  return (await res.json()) as Record<string, string>
}

t.test('getFreePortBase reserves free, non-overlapping ports', async (t) => {
  const a = await getFreePortBase({ nodes: 3 })
  const b = await getFreePortBase({ nodes: 3 })
  const pa = portsFor(a, 3)
  const pb = portsFor(b, 3)
  t.same(pa, [a + 1, a + 101, a + 2, a + 102, a + 3, a + 103])
  t.same(pa.filter((p) => pb.includes(p)), [], 'a second reservation never overlaps the first')
  t.same(await busyPorts([...pa, ...pb]), [])
  for (const p of pa) t.equal(fs.readFileSync(path.join(LOCK_DIR, String(p)), 'utf8'), String(process.pid))
  t.ok(a >= 21_000 && a < 32_000, 'outside the dev ports and the ephemeral range')
  releasePorts([...pa, ...pb])
  t.notOk(fs.existsSync(path.join(LOCK_DIR, String(a + 1))), 'released')
})

t.test('waitFor returns the first truthy value, or times out naming the last error', async (t) => {
  let calls = 0
  t.equal(await waitFor(() => (++calls >= 3 ? 'done' : false), 2000, { intervalMs: 5 }), 'done')
  t.equal(calls, 3)
  await t.rejects(
    waitFor(() => {
      throw new Error('boom')
    }, 50, { intervalMs: 5, message: 'leader' }),
    /leader: condition not met within 50 ms; last error: boom/,
  )
})

t.test('startNode refuses a missing entry with a hint to build', async (t) => {
  await t.rejects(startNode('node-1', {}, { entry: '/nonexistent/main.js' }), /npm run build/)
})

t.test('a cluster: env, logs, crash, restart and stop, each by pid', async (t) => {
  const cluster = await startCluster({ nodes: 3, entry: FAKE, env: { LOG_LEVEL: 'debug' } })
  t.teardown(() => cluster.stop({ removeData: true }))
  await cluster.waitReady(10_000)

  const b = cluster.basePort
  t.equal(cluster.url('node-2'), `http://127.0.0.1:${b + 2}`)
  const seen = await getJson(`${cluster.url('node-2')}/env`)
  t.has(seen, cluster.env['node-2'] ?? {}, 'node-2 runs with its clusterEnv')
  t.equal(seen.RAFT_PORT, String(b + 102))
  t.equal(seen.LOG_LEVEL, 'debug', 'overrides reach the process')
  t.equal(seen.DATA_DIR, path.join(cluster.dataRoot, 'node-2'))
  t.equal(seen.PATH, process.env.PATH, 'inherits PATH')

  const pids = cluster.names.map((n) => cluster.node(n).pid)
  t.equal(new Set(pids).size, 3)
  await waitFor(() => cluster.node('node-1').logs().includes('listening'), 5000)
  t.match(cluster.node('node-1').logs(), /fake node-1 stderr line/, 'stderr is captured too')
  t.match(cluster.logs(), /===== node-3/)

  const crashed = await cluster.killNode('node-2')
  t.same(crashed, { code: null, signal: 'SIGKILL' })
  t.notOk(alive(pids[1] ?? 0))
  t.same(cluster.running(), ['node-1', 'node-3'], 'the others keep running')
  t.ok(alive(pids[0] ?? 0) && alive(pids[2] ?? 0))

  const again = await cluster.restartNode('node-2')
  t.not(again.pid, pids[1])
  await cluster.waitReady(10_000, ['node-2'])
  t.match(again.logs(), /listening[\s\S]*starting node-2[\s\S]*listening/, 'the log keeps both runs')
  await t.rejects(cluster.startNode('node-2'), /already running/)

  const procs = cluster.names.map((n) => cluster.node(n))
  await cluster.stop()
  for (const p of procs) {
    t.same(p.exitResult, { code: 0, signal: null }, `${p.name} stopped gracefully by SIGTERM`)
    t.notOk(alive(p.pid))
    t.match(p.logs(), /got SIGTERM/)
  }
  t.same(await busyPorts(portsFor(b, 3)), [], 'ports are free again')
  t.notOk(fs.existsSync(path.join(LOCK_DIR, String(b + 1))), 'reservation released')
})

t.test('stop() escalates to SIGKILL when SIGTERM is ignored', async (t) => {
  const base = await getFreePortBase({ nodes: 1 })
  t.teardown(() => releasePorts(portsFor(base, 1)))
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-proc-'))
  t.teardown(() => fs.rmSync(logDir, { recursive: true, force: true }))
  const proc = await startNode(
    'node-1',
    { NODE_ID: 'node-1', SERVER_PORT: String(base + 1), FAKE_IGNORE_SIGTERM: '1' },
    { entry: FAKE, logDir },
  )
  await waitFor(() => proc.logs().includes('listening'), 5000)
  const started = Date.now()
  t.same(await proc.stop(300), { code: null, signal: 'SIGKILL' })
  t.ok(Date.now() - started >= 250, 'waited for the grace period first')
  t.match(proc.logs(), /got SIGTERM/)
  t.equal(proc.kill(), false, 'nothing left to signal')
  t.same(await proc.stop(), { code: null, signal: 'SIGKILL' }, 'stop() after exit just reports')
})
