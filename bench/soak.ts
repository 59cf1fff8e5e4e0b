// `npm run soak`: a long steady load with snapshots, log compaction and rolling
// follower restarts; checks that the data directories stay bounded, that a
// restart does not get slower as the run goes on, and that all three nodes end
// with the same state.
//   1. a fresh 3-node cluster (temp data dirs) with SNAPSHOT_ENTRIES from the
//      flag and a policy that admits nearly everything;
//   2. autocannon at a fixed overall rate (--rate req/s) of POST /rate/increment,
//      client ids round-robin over --keys ids, connections spread over the
//      nodes in service;
//   3. every --sample-sec: each node's data dir size (all files, recursive) and
//      /cluster/status (log length = last_index - snapshot_index);
//   4. every --restart-every-sec: SIGTERM one follower (rotating), start it
//      again on the same data dir, time spawn -> GET /readyz 200. The node is
//      taken out of the load's rotation first (as a load balancer drains it)
//      and put back once ready: autocannon reconnects to a closed port in a
//      tight loop, which would only measure the load generator;
//   5. stop the load, wait for equal applied_index, compare state_hash.
// Writes bench/results/soak.json; exit code 1 if a summary check fails.
//
//   npm run soak -- [--minutes 10] [--rate 1500] [--keys 20000] [--snapshot-entries 20000]
//                   [--restart-every-sec 120] [--dir-bound-mb 64] [--sample-sec 15] [--connections 48]
import type { Dirent } from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import autocannon, { type Instance, type Options } from 'autocannon'
import { Args } from './lib/args.js'
import { HIGH_LIMIT_ENV, startBenchCluster, type BenchCluster } from './lib/cluster.js'
import { round3 } from './lib/stats.js'
import { loadAvg, machineInfo, RESULTS_DIR, sleep, writeJson } from './lib/procs.js'
import { classifyStatuses, percentile, Samples } from './lib/stats.js'

const MB = 1e6

interface SoakStatus {
  node: string
  role: string
  leader: string | null
  commit_index: number
  applied_index: number
  first_index: number
  last_index: number
  snapshot_index: number
  buckets: number
  request_ids: number
  state_hash?: string
}

async function soakStatus(url: string, hash = false, timeoutMs = 3000): Promise<SoakStatus> {
  const res = await fetch(`${url}/cluster/status${hash ? '?hash=1' : ''}`, { signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) throw new Error(`${url}/cluster/status: ${res.status}`)
  return (await res.json()) as SoakStatus
}

/** Bytes of every file under `dir`, by kind (LevelDB tables, write-ahead logs, the rest). Files vanishing mid-walk are skipped. */
async function dirBytes(dir: string, acc = { total: 0, sst: 0, wal: 0, other: 0 }): Promise<typeof acc> {
  let entries: Dirent[]
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return acc
    throw err
  }
  for (const e of entries) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) {
      await dirBytes(p, acc)
      continue
    }
    let size: number
    try {
      size = (await fsp.lstat(p)).size
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    acc.total += size
    if (e.name.endsWith('.ldb') || e.name.endsWith('.sst')) acc.sst += size
    else if (/^\d+\.log$/.test(e.name)) acc.wal += size
    else acc.other += size
  }
  return acc
}

const mb = (bytes: number): number => Math.round((bytes / MB) * 100) / 100

/**
 * autocannon at a fixed overall rate over the nodes in service. Retargeting
 * stops the current instance and starts a new one (same rate, same
 * connections, the shared id counter goes on), so the gap is milliseconds.
 */
class SteadyLoad {
  readonly statusCounts: Record<string, number> = {}
  readonly transportErrors: Record<string, number> = {}
  readonly latencies = new Samples()
  responses = 0
  private seq = 0
  private current: Instance | null = null
  private readonly segments: { at_sec: number; targets: string[] }[] = []

  constructor(
    private readonly rate: number,
    private readonly connections: number,
    private readonly keys: number,
    private readonly t0: number,
  ) {}

  start(urls: readonly string[], names: readonly string[]): void {
    if (this.current !== null) throw new Error('load already running')
    const opts: Options & { overallRate: number } = {
      url: [...urls],
      connections: this.connections,
      duration: 7 * 24 * 3600, // stopped explicitly
      timeout: 10,
      overallRate: this.rate,
      requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, method: 'POST', path: `/rate/increment?client_id=soak-${this.seq++ % this.keys}` }) }],
    }
    const inst = autocannon(opts)
    inst.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      this.responses++
      this.latencies.add(responseTimeMs)
      const k = String(statusCode)
      this.statusCounts[k] = (this.statusCounts[k] ?? 0) + 1
    })
    inst.on('reqError', (err: Error & { code?: string }) => {
      const k = err.code ?? err.message
      this.transportErrors[k] = (this.transportErrors[k] ?? 0) + 1
    })
    this.current = inst
    this.segments.push({ at_sec: round3((performance.now() - this.t0) / 1000), targets: [...names] })
  }

  async stop(): Promise<void> {
    const inst = this.current
    if (inst === null) return
    this.current = null
    inst.stop()
    await inst
  }

  async retarget(urls: readonly string[], names: readonly string[]): Promise<void> {
    await this.stop()
    this.start(urls, names)
  }

  get transportErrorCount(): number {
    return Object.values(this.transportErrors).reduce((a, b) => a + b, 0)
  }

  get targetSegments(): readonly { at_sec: number; targets: string[] }[] {
    return this.segments
  }
}

interface NodeSample {
  dir_mb: number
  sst_mb: number
  wal_mb: number
  other_mb: number
  /** null while the node is down (restarting) or did not answer. */
  log_entries: number | null
  first_index: number | null
  last_index: number | null
  snapshot_index: number | null
  applied_index: number | null
  buckets: number | null
  request_ids: number | null
  role: string | null
}

interface Sample {
  at_sec: number
  /** Responses per second since the previous sample. */
  rps: number
  nodes: Record<string, NodeSample>
}

interface Restart {
  node: string
  at_sec: number
  ready_ms: number
  log_entries: number
  applied_index: number
  snapshot_index: number
  stop_ms: number
  exit: string
  leader: string
}

async function sampleNodes(cluster: BenchCluster): Promise<Record<string, NodeSample>> {
  const out: Record<string, NodeSample> = {}
  await Promise.all(
    cluster.names.map(async (n) => {
      const dataDir = cluster.handle.env[n]?.DATA_DIR
      if (dataDir === undefined) throw new Error(`no DATA_DIR for ${n}`)
      const [bytes, st] = await Promise.all([dirBytes(dataDir), cluster.proc(n).exitResult === null ? soakStatus(cluster.url(n)).catch(() => null) : Promise.resolve(null)])
      out[n] = {
        dir_mb: mb(bytes.total),
        sst_mb: mb(bytes.sst),
        wal_mb: mb(bytes.wal),
        other_mb: mb(bytes.other),
        log_entries: st === null ? null : st.last_index - st.snapshot_index,
        first_index: st?.first_index ?? null,
        last_index: st?.last_index ?? null,
        snapshot_index: st?.snapshot_index ?? null,
        applied_index: st?.applied_index ?? null,
        buckets: st?.buckets ?? null,
        request_ids: st?.request_ids ?? null,
        role: st?.role ?? null,
      }
    }),
  )
  return Object.fromEntries(cluster.names.map((n) => [n, out[n] as NodeSample]))
}

async function waitReadyz(url: string, cluster: BenchCluster, name: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (cluster.proc(name).exitResult !== null) throw new Error(`${name} exited while starting: ${cluster.proc(name).logFile}`)
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })
      await res.body?.cancel()
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${name}: /readyz not 200 within ${timeoutMs} ms`)
    await sleep(20)
  }
}

/** Wait until every node reports the same applied_index (and it equals its commit_index), then compare state hashes. */
async function finalHashes(cluster: BenchCluster, timeoutMs: number): Promise<{ applied: Record<string, number>; hashes: Record<string, string>; equal: boolean; waited_ms: number }> {
  const t = performance.now()
  let last: SoakStatus[] = []
  for (;;) {
    try {
      last = await Promise.all(cluster.names.map((n) => soakStatus(cluster.url(n), true, 10_000)))
      const a0 = last[0]?.applied_index
      const sameApplied = last.every((s) => s.applied_index === a0 && s.commit_index === a0)
      const h0 = last[0]?.state_hash
      if (sameApplied && (last.every((s) => s.state_hash === h0) || performance.now() - t > timeoutMs)) break
    } catch {
      // a node busy or not answering yet
    }
    if (performance.now() - t > timeoutMs) break
    await sleep(250)
  }
  const applied = Object.fromEntries(last.map((s) => [s.node, s.applied_index]))
  const hashes = Object.fromEntries(last.map((s) => [s.node, s.state_hash ?? '']))
  const a0 = last[0]?.applied_index
  const h0 = last[0]?.state_hash
  const equal = last.length === cluster.names.length && h0 !== undefined && last.every((s) => s.applied_index === a0 && s.state_hash === h0)
  return { applied, hashes, equal, waited_ms: Math.round(performance.now() - t) }
}

function pad(s: string | number, w: number): string {
  return String(s).padStart(w)
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['minutes', 'rate', 'keys', 'snapshot-entries', 'restart-every-sec', 'dir-bound-mb', 'sample-sec', 'connections', 'out'])
  const options = {
    minutes: args.number('minutes', 10),
    rate: args.number('rate', 1500),
    keys: args.number('keys', 20_000),
    snapshot_entries: args.number('snapshot-entries', 20_000),
    restart_every_sec: args.number('restart-every-sec', 120),
    dir_bound_mb: args.number('dir-bound-mb', 64),
    sample_sec: args.number('sample-sec', 15),
    connections: args.number('connections', 48),
  }
  if (options.rate < 1 || options.keys < 1 || options.connections < 1 || options.sample_sec <= 0) throw new Error('--rate, --keys, --connections and --sample-sec must be positive')
  const out = path.resolve(args.string('out', path.join(RESULTS_DIR, 'soak.json')))
  const durationMs = options.minutes * 60_000
  const machine = machineInfo()
  const env = { ...HIGH_LIMIT_ENV, SNAPSHOT_ENTRIES: String(options.snapshot_entries) }
  console.log(
    `soak: ${options.minutes} min at ${options.rate} req/s over ${options.keys} ids, ${options.connections} connections, SNAPSHOT_ENTRIES=${options.snapshot_entries}, ` +
      `a follower restart every ${options.restart_every_sec} s, dir bound ${options.dir_bound_mb} MB; load ${machine.load_start.join(' ')}`,
  )

  const cluster = await startBenchCluster(env)
  let load: SteadyLoad | null = null
  const onSignal = (sig: NodeJS.Signals): void => {
    console.error(`\n${sig}: stopping the load and the cluster`)
    void (async () => {
      await load?.stop()
      await cluster.stop()
      process.exit(130)
    })()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const samples: Sample[] = []
  const restarts: Restart[] = []
  let final: Awaited<ReturnType<typeof finalHashes>>
  let finalNodes: Record<string, NodeSample>
  let loadSec: number
  try {
    console.log(`cluster up: leader ${await cluster.leader(20_000)}, data under ${cluster.handle.dataRoot}`)
    const t0 = performance.now()
    const atSec = (): number => Math.round((performance.now() - t0) / 100) / 10
    const all = cluster.names
    const steady = new SteadyLoad(options.rate, options.connections, options.keys, t0)
    load = steady
    steady.start(all.map((n) => cluster.url(n)), all)

    console.log(`\n${pad('t s', 6)} ${pad('req/s', 6)}  ${all.map((n) => `${n}: dir MB / log / applied`.padStart(34)).join('  ')}`)
    let loadDone = false
    let lastResponses = 0
    let lastAt = 0
    const sampler = (async () => {
      for (let k = 1; !loadDone; k++) {
        const due = t0 + k * options.sample_sec * 1000
        while (!loadDone && performance.now() < due) await sleep(Math.min(200, due - performance.now()))
        if (loadDone) break
        const at = atSec()
        const responses = steady.responses
        const nodes = await sampleNodes(cluster)
        const s: Sample = { at_sec: at, rps: Math.round((responses - lastResponses) / Math.max(0.001, at - lastAt)), nodes }
        lastResponses = responses
        lastAt = at
        samples.push(s)
        const cells = all.map((n) => {
          const x = nodes[n]
          return x === undefined ? '' : `${x.dir_mb.toFixed(1)} / ${x.log_entries ?? 'down'} / ${x.applied_index ?? '-'}`.padStart(34)
        })
        console.log(`${pad(at.toFixed(0), 6)} ${pad(s.rps, 6)}  ${cells.join('  ')}`)
      }
    })()

    const lastRestarted = new Map<string, number>()
    try {
      for (let k = 1; options.restart_every_sec > 0; k++) {
        const due = t0 + k * options.restart_every_sec * 1000
        if (due >= t0 + durationMs) break
        while (performance.now() < due) await sleep(Math.min(500, due - performance.now()))
        const leader = await cluster.leader(20_000)
        const followers = all.filter((n) => n !== leader).sort((a, b) => (lastRestarted.get(a) ?? -1) - (lastRestarted.get(b) ?? -1))
        const node = followers[0]
        if (node === undefined) throw new Error('no follower to restart')
        const st = await soakStatus(cluster.url(node))
        const at = atSec()
        const others = all.filter((n) => n !== node)
        await steady.retarget(others.map((n) => cluster.url(n)), others)
        const ts = performance.now()
        const exit = await cluster.handle.stopNode(node, 10_000)
        const stopMs = performance.now() - ts
        const t1 = performance.now()
        await cluster.handle.startNode(node)
        await waitReadyz(cluster.url(node), cluster, node, 120_000)
        const readyMs = performance.now() - t1
        await steady.retarget(all.map((n) => cluster.url(n)), all)
        lastRestarted.set(node, k)
        const r: Restart = {
          node,
          at_sec: at,
          ready_ms: Math.round(readyMs),
          log_entries: st.last_index - st.snapshot_index,
          applied_index: st.applied_index,
          snapshot_index: st.snapshot_index,
          stop_ms: Math.round(stopMs),
          exit: exit.signal ?? `code ${String(exit.code)}`,
          leader,
        }
        restarts.push(r)
        console.log(`        restart ${node} at ${at.toFixed(0)} s (leader ${leader}): log ${r.log_entries} entries, stop ${r.stop_ms} ms (${r.exit}), spawn -> ready ${r.ready_ms} ms`)
      }
      const end = t0 + durationMs
      while (performance.now() < end) await sleep(Math.min(500, end - performance.now()))
    } finally {
      loadDone = true
      await steady.stop()
      await sampler
    }
    loadSec = (performance.now() - t0) / 1000
    console.log(`\nload stopped after ${loadSec.toFixed(0)} s; waiting for equal applied_index and comparing state hashes`)
    final = await finalHashes(cluster, 60_000)
    finalNodes = await sampleNodes(cluster)
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    await load?.stop()
    await cluster.stop()
  }

  const steady = load
  const cls = classifyStatuses(steady.statusCounts, steady.transportErrorCount)
  const sorted = steady.latencies.sorted()
  const names = cluster.names
  const maxDir = Object.fromEntries(names.map((n) => [n, Math.max(...samples.map((s) => s.nodes[n]?.dir_mb ?? 0), finalNodes[n]?.dir_mb ?? 0)]))
  const logLens = (n: string): number[] => samples.map((s) => s.nodes[n]?.log_entries).filter((x): x is number => x !== null && x !== undefined)
  const logRange = Object.fromEntries(names.map((n) => [n, { min: Math.min(...logLens(n)), max: Math.max(...logLens(n)) }]))
  const first = restarts[0]?.ready_ms ?? null
  const last = restarts[restarts.length - 1]?.ready_ms ?? null
  const summary = {
    max_dir_mb: maxDir,
    final_dir_mb: Object.fromEntries(names.map((n) => [n, finalNodes[n]?.dir_mb ?? null])),
    dir_bound_mb: options.dir_bound_mb,
    dir_within_bound: Object.values(maxDir).every((v) => v <= options.dir_bound_mb),
    log_entries_range: logRange,
    restarts: restarts.length,
    restart_ms_first: first,
    restart_ms_last: last,
    restart_time_flat: first === null || last === null ? null : last <= Math.max(2 * first, first + 1000),
    total_requests: steady.responses,
    achieved_rps: Math.round(steady.responses / loadSec),
    ok: cls.ok,
    limited: cls.limited,
    errors: cls.errors,
    status_counts: steady.statusCounts,
    transport_errors: steady.transportErrors,
    p50_ms: round3(percentile(sorted, 50)),
    p99_ms: round3(percentile(sorted, 99)),
    final_applied_index: final.applied,
    state_hashes: final.hashes,
    hashes_equal: final.equal,
  }
  writeJson(out, {
    machine: { ...machine, load_end: loadAvg() },
    options,
    env,
    samples,
    restarts,
    load_targets: steady.targetSegments,
    final_sample: finalNodes,
    summary,
  })

  console.log(`\n${pad('node', 8)} ${pad('max dir MB', 11)} ${pad('final MB', 9)} ${pad('log entries', 16)}`)
  for (const n of names) {
    const r = logRange[n]
    console.log(`${pad(n, 8)} ${pad((maxDir[n] ?? 0).toFixed(1), 11)} ${pad((finalNodes[n]?.dir_mb ?? 0).toFixed(1), 9)} ${pad(r === undefined ? '-' : `${r.min}..${r.max}`, 16)}`)
  }
  console.log(`restarts (spawn -> ready): ${restarts.map((r) => `${r.node}@${r.at_sec.toFixed(0)}s ${r.ready_ms} ms (log ${r.log_entries})`).join(', ') || 'none'}`)
  console.log(
    `requests ${summary.total_requests} (${summary.achieved_rps} req/s of ${options.rate} asked), ok ${summary.ok}, 429 ${summary.limited}, errors ${summary.errors}; ` +
      `p50 ${summary.p50_ms} ms p99 ${summary.p99_ms} ms`,
  )
  const mark = (v: boolean | null): string => (v === null ? 'n/a' : v ? 'PASS' : 'FAIL')
  const over = Object.entries(maxDir)
    .filter(([, v]) => v > options.dir_bound_mb)
    .map(([n, v]) => `${n} +${(v - options.dir_bound_mb).toFixed(1)} MB`)
  console.log(`dir <= ${options.dir_bound_mb} MB: ${mark(summary.dir_within_bound)}${over.length > 0 ? ` (${over.join(', ')})` : ''}`)
  console.log(`restart time flat (last ${last ?? '-'} <= max(2 x first, first + 1000) from first ${first ?? '-'}): ${mark(summary.restart_time_flat)}`)
  console.log(`state hashes equal at applied_index ${JSON.stringify(final.applied)}: ${mark(summary.hashes_equal)}`)
  console.log(`load average at the end: ${loadAvg().join(' ')}; wrote ${path.relative(process.cwd(), out)}`)
  if (!summary.dir_within_bound || summary.restart_time_flat === false || !summary.hashes_equal) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
