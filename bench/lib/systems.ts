// The systems the bench compares. Each starts fresh (new process, new data
// dir), listens on 127.0.0.1 only, and is stopped by its own pids.
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { getFreePortBase, portsFor, releasePorts, type NodeEnv } from '../../scripts/cluster-proc.js'
import { startBenchCluster } from './cluster.js'
import { BENCH_DIR, onPath, sleep, spawnChild, TS_LOADER_ARGS, waitHttpOk, type Child } from './procs.js'

export const SYSTEM_NAMES = ['inmem', 'redis-lua', 'redis-lua-fsync', 'cluster-leader', 'cluster-spread'] as const
export type SystemName = (typeof SYSTEM_NAMES)[number]

export interface RunningSystem {
  readonly name: SystemName
  /** Where the load goes: connections are spread over these round-robin. */
  readonly targets: readonly string[]
  /** Every process of the system, by label (CPU is read for each). */
  readonly pids: Readonly<Record<string, number>>
  /** Cluster nodes' base URLs by name, whose /metrics count peer frames. */
  readonly nodes?: Readonly<Record<string, string>>
  /** Free-form facts worth recording (leader id, redis config...). */
  readonly info: Readonly<Record<string, string>>
  /** Clusters: the leader all running nodes agree on now. */
  readonly leader?: () => Promise<string>
  stop(): Promise<void>
}

export function isSystemName(s: string): s is SystemName {
  return (SYSTEM_NAMES as readonly string[]).includes(s)
}

/** Why this machine cannot run `name`, or null when it can. */
export function unavailable(name: SystemName): string | null {
  if (name.startsWith('redis') && onPath('redis-server') === null) {
    return 'redis-server not found on PATH (apt-get install -y redis-server); skipping the redis-lua systems'
  }
  return null
}

export async function startSystem(name: SystemName, policyEnv: NodeEnv, opts: { nodeArgs?: readonly string[] } = {}): Promise<RunningSystem> {
  switch (name) {
    case 'inmem':
      return startSingle(name, 'inmem-server.ts', policyEnv, opts.nodeArgs === undefined ? {} : { nodeArgs: opts.nodeArgs })
    case 'redis-lua':
    case 'redis-lua-fsync':
      return startRedisSystem(name, policyEnv)
    case 'cluster-leader':
    case 'cluster-spread': {
      const cluster = await startBenchCluster(policyEnv, opts.nodeArgs === undefined ? {} : { nodeArgs: opts.nodeArgs })
      try {
        const leader = await cluster.leader()
        const pids: Record<string, number> = {}
        for (const [n, pid] of Object.entries(cluster.pids())) pids[n === leader ? `${n} (leader)` : n] = pid
        return {
          name,
          // Followers first: at 1 connection, cluster-spread measures the forwarding path.
          targets: name === 'cluster-leader' ? [cluster.url(leader)] : [...cluster.names.filter((n) => n !== leader), leader].map((n) => cluster.url(n)),
          pids,
          nodes: Object.fromEntries(cluster.names.map((n) => [n, cluster.url(n)])),
          info: { leader, data_dir: cluster.handle.dataRoot },
          leader: () => cluster.leader(5000),
          stop: () => cluster.stop(),
        }
      } catch (err) {
        await cluster.stop()
        throw err
      }
    }
  }
}

function logDirFor(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ratelimiter-bench-${name}-`))
}

interface SingleOptions {
  readonly extraEnv?: NodeEnv
  readonly extraInfo?: Record<string, string>
  /** Runs after the process stopped (the redis systems stop redis-server here). */
  readonly cleanup?: () => Promise<void>
  /** Node flags before the script, e.g. --cpu-prof for bench:profile. */
  readonly nodeArgs?: readonly string[]
}

async function startSingle(name: SystemName, file: string, policyEnv: NodeEnv, opts: SingleOptions = {}): Promise<RunningSystem> {
  const { extraEnv = {}, extraInfo = {}, cleanup = async () => {}, nodeArgs = [] } = opts
  const base = await getFreePortBase({ nodes: 1 })
  const port = base + 1
  const dir = logDirFor(name)
  let child: Child | null = null
  const stopAll = async (): Promise<void> => {
    if (child !== null) await child.stop()
    await cleanup()
    releasePorts(portsFor(base, 1))
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    child = await spawnChild(name, process.execPath, [...nodeArgs, ...TS_LOADER_ARGS, path.join(BENCH_DIR, 'systems', file)], {
      env: { TS_NODE_TRANSPILE_ONLY: '1', LOG_LEVEL: 'warn', ...policyEnv, ...extraEnv, BENCH_PORT: String(port) },
      logDir: dir,
    })
    await waitHttpOk(`http://127.0.0.1:${port}/readyz`, child, 30_000)
  } catch (err) {
    await stopAll()
    throw err
  }
  const pids: Record<string, number> = { [`${name} (fastify)`]: child.pid }
  return { name, targets: [`http://127.0.0.1:${port}`], pids, info: extraInfo, stop: stopAll }
}

async function startRedisSystem(name: 'redis-lua' | 'redis-lua-fsync', policyEnv: NodeEnv): Promise<RunningSystem> {
  const fsync = name === 'redis-lua-fsync'
  const base = await getFreePortBase({ nodes: 1 })
  const redisPort = base + 101 // the slot's unused "raft" port
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ratelimiter-bench-redisdata-`))
  const config = fsync ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']
  const redis = await spawnChild(
    'redis-server',
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--dir', dataDir, '--save', '', '--daemonize', 'no', ...config],
    { logDir: dataDir },
  )
  const cleanup = async (): Promise<void> => {
    await redis.stop()
    releasePorts(portsFor(base, 1))
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await waitTcp(redisPort, redis)
  } catch (err) {
    await cleanup()
    throw err
  }
  return startSingle(name, 'redis-server.ts', policyEnv, {
    extraEnv: { REDIS_PORT: String(redisPort) },
    extraInfo: { redis: config.join(' '), redis_pid: String(redis.pid) },
    cleanup,
  }).then((s) => ({
    ...s,
    pids: { ...s.pids, 'redis-server': redis.pid },
  }))
}

async function waitTcp(port: number, child: Child, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!child.isRunning()) throw new Error(`${child.name} exited; log: ${child.logFile}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.end()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await sleep(100)
  }
}
