// Helpers for real-process tests: start nodes (`node dist/main.js`) with the
// environment from cluster-env.mjs on ports that do not clash with a dev
// cluster, capture each node's output to a log file, and stop every process
// by its own pid.
//
//   const cluster = await startCluster({ nodes: 3 });
//   t.teardown(() => cluster.stop());
//   await cluster.waitReady();
//   const res = await fetch(`${cluster.url('node-1')}/rate/increment?client_id=a`, { method: 'POST' });
//
// Ports: node-N serves HTTP on basePort + N and Raft on basePort + 100 + N.
// getFreePortBase() picks a base whose ports are all free and reserves them
// (lock files in the OS temp dir) so parallel test files do not collide.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { clusterEnv, NODE_RUNTIME_ARGS, NODE_RUNTIME_ENV, nodeNames, type ClusterEnv, type NodeEnv } from './cluster-env.mjs'
import { busyPorts } from './ports.mjs'

export type { ClusterEnv, NodeEnv } from './cluster-env.mjs'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const DEFAULT_ENTRY = path.join(REPO_ROOT, 'dist', 'main.js')
/** Raft port of node-N is basePort + RAFT_PORT_OFFSET + N. */
export const RAFT_PORT_OFFSET = 100
export const DEFAULT_STOP_TIMEOUT_MS = 5000

/** How a process ended: exactly one of code and signal is non-null. */
export interface ExitResult {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface StartNodeOptions {
  /** Script to run. Default: <repo>/dist/main.js. */
  entry?: string
  /** Output file (stdout and stderr, appended). Default: <logDir>/<name>.log. */
  logFile?: string
  /** Default: <os tmpdir>/ratelimiter-logs. */
  logDir?: string
  /** Working directory. Default: the repository root. */
  cwd?: string
  /** Start from the parent's environment (PATH etc.); `env` wins. Default true. */
  inheritEnv?: boolean
  /** Extra flags for node itself, before the entry script. */
  nodeArgs?: readonly string[]
  /** Timeout stop() uses when given none. Default 5000 ms. */
  stopTimeoutMs?: number
}

export interface NodeProc {
  readonly name: string
  readonly pid: number
  readonly env: Readonly<NodeEnv>
  readonly logFile: string
  /** http://127.0.0.1:<SERVER_PORT>, or '' when the env has no SERVER_PORT. */
  readonly httpUrl: string
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitResult>
  /** null while running. */
  readonly exitResult: ExitResult | null
  /** Send `signal` (default SIGTERM) to this pid; false if it has already exited. */
  kill(signal?: NodeJS.Signals): boolean
  /** SIGTERM, wait up to timeoutMs, then SIGKILL; resolves with how it ended. */
  stop(timeoutMs?: number): Promise<ExitResult>
  /** Everything the process has written so far (all of its runs that share the log file). */
  logs(): string
}

// Every process started here, so none outlives the test process.
const live = new Set<NodeProc>()
const heldPorts = new Set<number>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const proc of live) proc.kill('SIGKILL')
    releasePorts([...heldPorts])
  })
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}

/** Start one node process. Resolves once the OS has spawned it (not when it is ready). */
export async function startNode(name: string, env: NodeEnv, opts: StartNodeOptions = {}): Promise<NodeProc> {
  const entry = opts.entry ?? DEFAULT_ENTRY
  if (!fs.existsSync(entry)) {
    throw new Error(`${entry} not found: run \`npm run build\` before real-process tests`)
  }
  const logFile = opts.logFile ?? path.join(opts.logDir ?? path.join(os.tmpdir(), 'ratelimiter-logs'), `${name}.log`)
  fs.mkdirSync(path.dirname(logFile), { recursive: true })
  const fd = fs.openSync(logFile, 'a')
  let child: ChildProcess
  try {
    fs.writeSync(fd, `--- ${new Date().toISOString()} starting ${name}: ${process.execPath} ${entry}\n`)
    child = spawn(process.execPath, [...NODE_RUNTIME_ARGS, ...(opts.nodeArgs ?? []), entry], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: opts.inheritEnv === false ? { ...NODE_RUNTIME_ENV, ...env } : { ...NODE_RUNTIME_ENV, ...process.env, ...env },
      stdio: ['ignore', fd, fd],
    })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })
  } finally {
    fs.closeSync(fd) // the child has its own copy
  }
  const pid = child.pid
  if (pid === undefined) throw new Error(`${name}: spawn gave no pid`)

  let exitResult: ExitResult | null = null
  const exited = new Promise<ExitResult>((resolve) => {
    child.once('exit', (code, signal) => {
      exitResult = { code, signal }
      live.delete(proc)
      resolve(exitResult)
    })
  })
  const defaultStopMs = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS

  const proc: NodeProc = {
    name,
    pid,
    env: Object.freeze({ ...env }),
    logFile,
    httpUrl: env.SERVER_PORT === undefined ? '' : `http://127.0.0.1:${env.SERVER_PORT}`,
    exited,
    get exitResult() {
      return exitResult
    },
    kill(signal = 'SIGTERM') {
      return exitResult === null && sendSignal(pid, signal)
    },
    async stop(timeoutMs = defaultStopMs) {
      if (exitResult !== null) return exitResult
      proc.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs)
      })
      const first = await Promise.race([exited, timedOut])
      clearTimeout(timer)
      if (first === 'timeout') proc.kill('SIGKILL')
      return exited
    },
    logs() {
      try {
        return fs.readFileSync(logFile, 'utf8')
      } catch {
        return ''
      }
    },
  }
  live.add(proc)
  installExitHook()
  return proc
}

export interface WaitForOptions {
  /** Poll interval. Default 100 ms. */
  intervalMs?: number
  /** Prefix of the timeout error message. */
  message?: string
}

/**
 * Call `fn` until it returns a truthy value (which is returned) or `timeoutMs`
 * passes. A throw counts as "not yet"; the last one is quoted on timeout.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  opts: WaitForOptions = {},
): Promise<NonNullable<Awaited<T>>> {
  const interval = opts.intervalMs ?? 100
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) break
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))))
  }
  const why = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
  throw new Error(`${opts.message ?? 'waitFor'}: condition not met within ${timeoutMs} ms${why}`)
}

/** The ports a cluster of `nodes` uses with this base. */
export function portsFor(basePort: number, nodes = 3): number[] {
  const out: number[] = []
  for (let n = 1; n <= nodes; n++) out.push(basePort + n, basePort + RAFT_PORT_OFFSET + n)
  return out
}

const LOCK_DIR = path.join(os.tmpdir(), 'ratelimiter-ports')

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Create the lock file for `port`, taking over one left by a dead process. */
function lockPort(port: number): boolean {
  const file = path.join(LOCK_DIR, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' })
      heldPorts.add(port)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = Number(fs.readFileSync(file, 'utf8'))
      if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) return false
      fs.rmSync(file, { force: true }) // stale: its owner is gone
    }
  }
  return false
}

/** Give back ports reserved by getFreePortBase (startCluster's stop() does this). */
export function releasePorts(ports: readonly number[]): void {
  for (const port of ports) {
    if (!heldPorts.delete(port)) continue
    try {
      fs.rmSync(path.join(LOCK_DIR, String(port)), { force: true })
    } catch {
      // best effort: a stale lock is taken over by the next caller anyway
    }
  }
}

export interface FreePortBaseOptions {
  nodes?: number
  host?: string
  /** Bases are drawn from [min, max), multiples of 10. The default range stays
   * clear of the dev cluster (2000N/5000N) and of Linux's ephemeral ports. */
  min?: number
  max?: number
  attempts?: number
}

/**
 * A base port such that every port of portsFor(base, nodes) is free on host,
 * reserved for this process until releasePorts() or exit.
 */
export async function getFreePortBase(opts: FreePortBaseOptions = {}): Promise<number> {
  const nodes = opts.nodes ?? 3
  const min = opts.min ?? 21_000
  const max = opts.max ?? 32_000
  const attempts = opts.attempts ?? 200
  if (nodes < 1 || nodes >= RAFT_PORT_OFFSET) throw new RangeError(`nodes must be 1..${RAFT_PORT_OFFSET - 1}`)
  fs.mkdirSync(LOCK_DIR, { recursive: true })
  installExitHook()
  const slots = Math.floor((max - min) / 10)
  if (slots < 1) throw new RangeError(`empty port range [${min}, ${max})`)
  for (let i = 0; i < attempts; i++) {
    const base = min + 10 * Math.floor(Math.random() * slots)
    const ports = portsFor(base, nodes)
    const locked: number[] = []
    for (const port of ports) {
      if (!lockPort(port)) break
      locked.push(port)
    }
    if (locked.length === ports.length && (await busyPorts(ports, opts.host)).length === 0) return base
    releasePorts(locked)
  }
  throw new Error(`no free port base found in [${min}, ${max}) after ${attempts} attempts`)
}

export interface StartClusterOptions {
  /** Cluster size. Default 3. */
  nodes?: number
  /** HTTP of node-N on basePort + N, Raft on basePort + 100 + N. Default: getFreePortBase(). */
  basePort?: number
  /** Parent of the node data dirs and logs. Default: a new temp dir. */
  dataRoot?: string
  /** Variables set on every node (e.g. { TICK_MS: '10' }). */
  env?: NodeEnv
  /** Variables set on one node. */
  nodeEnv?: Record<string, NodeEnv>
  /** Which nodes to start now (others can be started later with startNode). Default: all. */
  start?: readonly string[]
  entry?: string
  stopTimeoutMs?: number
}

export interface StopClusterOptions {
  /** Also delete dataRoot (data dirs and logs). Default false. */
  removeData?: boolean
  timeoutMs?: number
}

export interface ProcCluster {
  readonly basePort: number
  readonly dataRoot: string
  readonly names: readonly string[]
  /** The environment each node is started with. */
  readonly env: Readonly<ClusterEnv>
  /** The latest process of each node that has been started. */
  readonly procs: ReadonlyMap<string, NodeProc>
  /** The latest process of `name`; throws if it was never started. */
  node(name: string): NodeProc
  /** http://127.0.0.1:<SERVER_PORT of name> */
  url(name: string): string
  /** Names of the nodes whose latest process is still running. */
  running(): string[]
  /** Start (or start again, same env and data dir) a node that is not running. */
  startNode(name: string): Promise<NodeProc>
  stopNode(name: string, timeoutMs?: number): Promise<ExitResult>
  /** Send a signal (default SIGKILL: a crash) and wait for the exit. */
  killNode(name: string, signal?: NodeJS.Signals): Promise<ExitResult>
  restartNode(name: string): Promise<NodeProc>
  /** Wait until every running node (or `names`) answers GET /readyz with 2xx. */
  waitReady(timeoutMs?: number, names?: readonly string[]): Promise<void>
  /** Each node's log, headed by its name: attach to a failing test. */
  logs(): string
  /** Stop every running node (SIGTERM, then SIGKILL) and release the ports. */
  stop(opts?: StopClusterOptions): Promise<void>
}

async function answersReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })
    await res.body?.cancel()
    return res.ok
  } catch {
    return false
  }
}

/** Start a local cluster on ports of its own, with the environment of cluster-env.mjs. */
export async function startCluster(opts: StartClusterOptions = {}): Promise<ProcCluster> {
  const size = opts.nodes ?? 3
  const ownBase = opts.basePort === undefined
  const basePort = opts.basePort ?? (await getFreePortBase({ nodes: size }))
  const dataRoot = opts.dataRoot ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ratelimiter-cluster-'))
  const names = nodeNames(size)
  const env = clusterEnv({
    nodes: size,
    dataRoot,
    httpBase: basePort,
    raftBase: basePort + RAFT_PORT_OFFSET,
    overrides: opts.env ?? {},
    nodeOverrides: opts.nodeEnv ?? {},
  })
  const procs = new Map<string, NodeProc>()
  const nodeOpts: StartNodeOptions = { logDir: path.join(dataRoot, 'logs') }
  if (opts.entry !== undefined) nodeOpts.entry = opts.entry
  if (opts.stopTimeoutMs !== undefined) nodeOpts.stopTimeoutMs = opts.stopTimeoutMs

  const envOf = (name: string): NodeEnv => {
    const e = env[name]
    if (e === undefined) throw new RangeError(`no node ${name} in this cluster (${names.join(', ')})`)
    return e
  }
  const node = (name: string): NodeProc => {
    const p = procs.get(name)
    if (p === undefined) throw new Error(`${name} was never started`)
    return p
  }
  const running = (): string[] => names.filter((n) => procs.get(n)?.exitResult === null)

  const cluster: ProcCluster = {
    basePort,
    dataRoot,
    names,
    env,
    procs,
    node,
    url: (name) => `http://127.0.0.1:${envOf(name).SERVER_PORT ?? ''}`,
    running,
    async startNode(name) {
      const e = envOf(name)
      if (running().includes(name)) throw new Error(`${name} is already running (pid ${node(name).pid})`)
      const proc = await startNode(name, e, nodeOpts)
      procs.set(name, proc)
      return proc
    },
    stopNode: (name, timeoutMs) => node(name).stop(timeoutMs),
    async killNode(name, signal = 'SIGKILL') {
      const p = node(name)
      p.kill(signal)
      return p.exited
    },
    async restartNode(name) {
      if (running().includes(name)) await node(name).stop()
      return cluster.startNode(name)
    },
    async waitReady(timeoutMs = 15_000, which) {
      const targets = which ?? running()
      await waitFor(
        async () => (await Promise.all(targets.map((n) => answersReady(cluster.url(n))))).every(Boolean),
        timeoutMs,
        { intervalMs: 200, message: `waitReady(${targets.join(', ')})` },
      )
    },
    logs() {
      return names
        .filter((n) => procs.has(n))
        .map((n) => `===== ${n} (${node(n).logFile})\n${node(n).logs()}`)
        .join('\n')
    },
    async stop(stopOpts = {}) {
      await Promise.all(running().map((n) => node(n).stop(stopOpts.timeoutMs)))
      if (ownBase) releasePorts(portsFor(basePort, size))
      if (stopOpts.removeData === true) fs.rmSync(dataRoot, { recursive: true, force: true })
    },
  }

  try {
    for (const name of opts.start ?? names) await cluster.startNode(name)
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return cluster
}
