// A three-node cluster for the bench (scripts/cluster-proc.ts), optionally
// with extra node flags (e.g. --cpu-prof, which NODE_OPTIONS refuses).
import path from 'node:path'
import { startCluster, startNode, type NodeEnv, type NodeProc, type ProcCluster } from '../../scripts/cluster-proc.js'
import { sleep } from './procs.js'

/** Limits high enough that nearly everything is admitted (buckets refill within 1 ms). */
export const HIGH_LIMIT_ENV: NodeEnv = {
  RATE_LIMIT: '1000000',
  RATE_LIMIT_WINDOW_SEC: '1',
  RATE_LIMIT_BURST: '1000000',
}

export interface BenchCluster {
  readonly handle: ProcCluster
  readonly names: readonly string[]
  url(name: string): string
  proc(name: string): NodeProc
  pids(): Record<string, number>
  /** Waits until every running node names the same leader, which says it leads. */
  leader(timeoutMs?: number): Promise<string>
  stop(): Promise<void>
}

export interface StatusBody {
  node: string
  role: string
  term: number
  leader: string | null
  commit_index: number
  applied_index: number
}

export async function status(url: string, timeoutMs = 1000): Promise<StatusBody> {
  const res = await fetch(`${url}/cluster/status`, { signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) throw new Error(`${url}/cluster/status: ${res.status}`)
  return (await res.json()) as StatusBody
}

export async function startBenchCluster(
  env: NodeEnv,
  opts: { nodeArgs?: readonly string[]; nodes?: number } = {},
): Promise<BenchCluster> {
  const nodeArgs = opts.nodeArgs ?? []
  const fullEnv: NodeEnv = { LOG_LEVEL: 'warn', ...env }
  // startCluster passes no node flags: with flags, it only lays out ports and
  // data dirs, and the nodes are started here with startNode.
  const handle = await startCluster({ nodes: opts.nodes ?? 3, env: fullEnv, ...(nodeArgs.length > 0 ? { start: [] } : {}) })
  const own = new Map<string, NodeProc>()
  try {
    if (nodeArgs.length > 0) {
      for (const name of handle.names) {
        const e = handle.env[name]
        if (e === undefined) throw new Error(`no env for ${name}`)
        own.set(name, await startNode(name, e, { logDir: path.join(handle.dataRoot, 'logs'), nodeArgs }))
      }
    }
    await handle.waitReady(30_000, handle.names)
  } catch (err) {
    for (const p of own.values()) await p.stop()
    await handle.stop({ removeData: true })
    throw err
  }
  const proc = (name: string): NodeProc => own.get(name) ?? handle.node(name)
  const cluster: BenchCluster = {
    handle,
    names: handle.names,
    url: (name) => handle.url(name),
    proc,
    pids: () => Object.fromEntries(handle.names.map((n) => [n, proc(n).pid])),
    leader: (timeoutMs = 15_000) => agreedLeader(handle.names.filter((n) => proc(n).exitResult === null).map((n) => ({ name: n, url: handle.url(n) })), timeoutMs),
    async stop() {
      await Promise.all([...own.values()].map((p) => p.stop(10_000)))
      await handle.stop({ removeData: true, timeoutMs: 10_000 })
    },
  }
  return cluster
}

/** The leader every given node agrees on (and which reports role leader itself). */
export async function agreedLeader(nodes: readonly { name: string; url: string }[], timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    try {
      const all = await Promise.all(nodes.map((n) => status(n.url)))
      const leader = all[0]?.leader ?? null
      const self = all.find((s) => s.node === leader)
      if (leader !== null && all.every((s) => s.leader === leader) && self?.role === 'leader') return leader
      last = JSON.stringify(all.map((s) => [s.node, s.role, s.leader, s.term]))
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    if (Date.now() > deadline) throw new Error(`no agreed leader within ${timeoutMs} ms: ${last}`)
    await sleep(100)
  }
}
