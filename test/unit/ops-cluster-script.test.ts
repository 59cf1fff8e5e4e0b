// scripts/cluster.mjs (`npm run cluster`), run with scripts/testing/fake-node.mjs
// in place of dist/main.js on ports of its own.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { getFreePortBase, portsFor, releasePorts, REPO_ROOT, waitFor } from '../../scripts/cluster-proc.js'
import { alive } from '../support/process.js'

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'cluster.mjs')
const FAKE = path.join(REPO_ROOT, 'scripts', 'testing', 'fake-node.mjs')

interface Run {
  child: ChildProcess
  out: () => string
  err: () => string
  exit: Promise<number | null>
}

async function runScript(
  t: Test,
  args: string[],
  nodes = 3,
  seed: (dataRoot: string) => void = () => {},
): Promise<Run & { base: number; data: string }> {
  const base = await getFreePortBase({ nodes })
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-cluster-script-'))
  seed(data)
  let out = ''
  let err = ''
  const child = spawn(
    process.execPath,
    [SCRIPT, '--entry', FAKE, '--data', data, '--http-base', String(base), '--raft-base', String(base + 100), '--nodes', String(nodes), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  )
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exit
    }
    releasePorts(portsFor(base, nodes))
    fs.rmSync(data, { recursive: true, force: true })
  })
  return { child, out: () => out, err: () => err, exit, base, data }
}

function nodePids(out: string): Map<string, number> {
  return new Map([...out.matchAll(/\[cluster\] (node-\d+) pid (\d+)/g)].map((m) => [m[1] ?? '', Number(m[2])]))
}

t.test('starts the nodes, prefixes their output, prints curl lines, stops them on SIGINT', async (t) => {
  const run = await runScript(t, [])
  await waitFor(() => run.out().includes('[cluster] ready:'), 15_000, { message: 'cluster ready' })
  const out = run.out()
  const pids = nodePids(out)
  t.same([...pids.keys()], ['node-1', 'node-2', 'node-3'])
  for (const [name, pid] of pids) {
    t.match(out, new RegExp(`^\\[${name}\\] fake ${name} listening on http://127\\.0\\.0\\.1:\\d+ pid=${pid}$`, 'm'), `${name} stdout prefixed`)
    t.match(run.err(), new RegExp(`^\\[${name}\\] fake ${name} stderr line$`, 'm'), `${name} stderr prefixed`)
  }
  t.match(out, `curl -s -X POST 'http://127.0.0.1:${run.base + 1}/rate/increment?client_id=alice'`)
  t.match(out, `curl -s 'http://127.0.0.1:${run.base + 2}/rate/check?client_id=alice'`)

  const env = (await (await fetch(`http://127.0.0.1:${run.base + 3}/env`)).json()) as Record<string, string>
  t.equal(env.NODE_ID, 'node-3')
  t.equal(env.RAFT_PORT, String(run.base + 103))
  t.equal(env.CLUSTERS, [1, 2, 3].map((n) => `node-${n}=127.0.0.1:${run.base + 100 + n}`).join(','))
  t.equal(env.DATA_DIR, path.join(run.data, 'node-3'))
  t.equal(env.CLUSTER_SECRET, 'dev-cluster-secret-change-me')

  run.child.kill('SIGINT')
  t.equal(await run.exit, 0, 'clean stop exits 0')
  for (const [name, pid] of pids) {
    t.match(run.out(), `[${name}] fake ${name} got SIGTERM`, `${name} got SIGTERM (not the terminal's SIGINT)`)
    t.notOk(alive(pid), `${name} is gone`)
  }
  t.match(run.out(), '[cluster] all nodes stopped')
})

t.test('a node that dies is reported and the others keep running', async (t) => {
  const run = await runScript(t, [])
  await waitFor(() => run.out().includes('[cluster] ready:'), 15_000)
  const pids = nodePids(run.out())
  process.kill(pids.get('node-2') ?? 0, 'SIGKILL')
  await waitFor(() => /node-2 \(pid \d+\) exited unexpectedly: signal SIGKILL; 2 of 3 nodes still running/.test(run.out()), 5000)
  t.equal(run.child.exitCode, null, 'the script is still running')
  for (const n of [1, 3]) {
    const res = await fetch(`http://127.0.0.1:${run.base + n}/readyz`)
    t.equal(res.status, 200, `node-${n} still answers`)
  }
  run.child.kill('SIGTERM')
  t.equal(await run.exit, 1, 'a crashed node makes the final exit code 1')
  t.match(run.out(), 'SIGTERM: sending SIGTERM to 2 node(s)')
  for (const pid of pids.values()) t.notOk(alive(pid))
})

t.test('a node that ignores SIGTERM is killed after the grace period', async (t) => {
  const run = await runScript(t, ['--env', 'FAKE_IGNORE_SIGTERM=1'], 1)
  await waitFor(() => run.out().includes('[cluster] ready:'), 15_000)
  const pid = nodePids(run.out()).get('node-1') ?? 0
  const started = Date.now()
  run.child.kill('SIGTERM')
  t.equal(await run.exit, 1)
  t.ok(Date.now() - started >= 4500, 'waited about 5 s first')
  t.match(run.out(), /node-1 \(pid \d+\) still running after 5000 ms: SIGKILL/)
  t.notOk(alive(pid))
})

t.test('--fresh deletes only the node-* data dirs', async (t) => {
  const run = await runScript(t, ['--fresh'], 1, (data) => {
    fs.mkdirSync(path.join(data, 'node-1', 'db'), { recursive: true })
    fs.mkdirSync(path.join(data, 'node-7'))
    fs.writeFileSync(path.join(data, 'keep.txt'), 'x')
  })
  await waitFor(() => run.out().includes('[cluster] ready:'), 15_000)
  t.notOk(fs.existsSync(path.join(run.data, 'node-1', 'db')), 'node-1 data wiped')
  t.notOk(fs.existsSync(path.join(run.data, 'node-7')), 'node-7 data wiped')
  t.ok(fs.existsSync(path.join(run.data, 'keep.txt')), 'other files kept')
  t.match(run.out(), `removed ${path.join(run.data, 'node-7')}`)
  run.child.kill('SIGTERM')
  t.equal(await run.exit, 0)
})

t.test('refuses to start on busy ports or bad options', async (t) => {
  const base = await getFreePortBase({ nodes: 1 })
  t.teardown(() => releasePorts(portsFor(base, 1)))
  const blocker = net.createServer()
  await new Promise<void>((r) => blocker.listen(base + 101, '127.0.0.1', r))
  t.teardown(() => blocker.close())
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      let err = ''
      const c = spawn(process.execPath, [SCRIPT, '--entry', FAKE, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      c.stderr?.on('data', (b: Buffer) => (err += b.toString()))
      c.on('exit', (code) => resolve({ code, err }))
    })
  const busy = await run(['--nodes', '1', '--http-base', String(base), '--raft-base', String(base + 100)])
  t.equal(busy.code, 2)
  t.match(busy.err, `port(s) ${base + 101} already in use`)
  const bad = await run(['--nodes', '4'])
  t.equal(bad.code, 2)
  t.match(bad.err, '--nodes must be one of 1, 3, 5')
  const noEntry = await run(['--entry', '/nonexistent.js'])
  t.equal(noEntry.code, 2)
  t.match(noEntry.err, 'npm run build')
})
