// `npm run bench:rounds`: where a replication round's time goes. Starts a
// fresh cluster with ROUND_TRACE_DIR set, loads it, stops it gracefully (each
// node writes its trace), and follows every append the leader sent during
// the measured window through each follower: how long the append took to
// arrive, waited for a write, was written, and how long the answer took back.
// Then the leader's stalls (bench/lib/stalls.ts): its longest gaps between
// applies, each set against the GC pauses, synced writes and snapshots that
// overlapped it. Every node runs on this host, so their monotonic clocks are one clock.
// Writes bench/results/rounds.json (rounds-cluster-spread.json for that
// system) and prints the stages.
//
// It also samples the host's housekeeping kernel threads (host-threads.ts;
// --host-threads takes name prefixes, or none) and sets the stalls against them.
//
//   npm run bench:rounds -- [--duration 5] [--warmup 3] [--connections 50] [--ids 1000] [--system cluster-leader|cluster-spread] [--host-threads kdamond,kswapd,...]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Args } from './lib/args.js'
import { HIGH_LIMIT_ENV } from './lib/cluster.js'
import { roundRobinPath, runLoad } from './lib/load.js'
import { DEFAULT_HOST_THREADS, hostThreadsFor, monotonicMs, watchHost, type LatencyAroundHost, type ThreadRuns } from './lib/host-threads.js'
import { loadAvg, machineInfo, RESULTS_DIR, writeJson } from './lib/procs.js'
import { analyzeRounds, formatRounds, parseTrace, type TraceEvent } from './lib/rounds.js'
import { analyzeStalls, formatStalls } from './lib/stalls.js'
import { startSystem } from './lib/systems.js'

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['duration', 'warmup', 'connections', 'ids', 'system', 'host-threads'])
  const durationSec = args.number('duration', 5)
  const warmupSec = args.number('warmup', 3)
  const connections = args.number('connections', 50)
  const ids = args.number('ids', 1000)
  const system = args.string('system', 'cluster-leader')
  if (system !== 'cluster-leader' && system !== 'cluster-spread') throw new Error('--system must be cluster-leader or cluster-spread')
  const hostPrefixes = args.list('host-threads', [...DEFAULT_HOST_THREADS]).filter((p) => p !== 'none')

  const traceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ratelimiter-rounds-'))
  const machine = machineInfo()
  console.log(`tracing rounds of ${system} at ${connections} connections for ${durationSec} s (load ${machine.load_start.join(' ')})`)
  const sys = await startSystem(system, { ...HIGH_LIMIT_ENV, ROUND_TRACE_DIR: traceDir })
  const leader = sys.info['leader']
  let window = { from: 0, to: 0 }
  let load = { rps: 0, p50_ms: 0, p99_ms: 0, errors: 0 }
  let host: ThreadRuns[] | undefined
  let aroundHost: LatencyAroundHost | undefined
  try {
    if (leader === undefined) throw new Error('no leader known')
    const pathFor = roundRobinPath('/rate/increment', 'bench-', ids)
    if (warmupSec > 0) await runLoad({ urls: sys.targets, connections, durationSec: warmupSec, method: 'POST', pathFor })
    const hostThreads = hostThreadsFor(hostPrefixes)
    const watch = hostThreads === null ? null : await watchHost(hostThreads)
    const from = monotonicMs()
    const res = await runLoad({ urls: sys.targets, connections, durationSec, method: 'POST', pathFor, ...(watch === null ? {} : { onResponse: watch.onResponse }) })
    window = { from, to: monotonicMs() }
    const watched = await watch?.finish()
    host = watched?.runs
    aroundHost = watched?.latency
    load = { rps: Math.round(res.rps), p50_ms: res.p50_ms, p99_ms: res.p99_ms, errors: res.errors }
    console.log(`load: ${load.rps} req/s, p50 ${load.p50_ms} ms, p99 ${load.p99_ms} ms, errors ${load.errors}`)
  } finally {
    await sys.stop() // SIGTERM: each node writes <NODE_ID>.trace as it stops
  }

  const traces = new Map<string, TraceEvent[]>()
  for (const file of fs.readdirSync(traceDir).filter((f) => f.endsWith('.trace'))) {
    traces.set(file.slice(0, -'.trace'.length), parseTrace(fs.readFileSync(path.join(traceDir, file), 'utf8')))
  }
  fs.rmSync(traceDir, { recursive: true, force: true })
  if (leader === undefined || !traces.has(leader)) throw new Error(`no trace from the leader (got ${[...traces.keys()].join(', ') || 'none'})`)
  const report = analyzeRounds(leader, traces, window.from, window.to)
  const stalls = analyzeStalls(leader, traces, window.from, window.to, host)
  const out = path.join(RESULTS_DIR, system === 'cluster-leader' ? 'rounds.json' : `rounds-${system}.json`)
  writeJson(out, { machine: { ...machine, load_end: loadAvg() }, system, connections, duration_s: durationSec, load, report, stalls, ...(aroundHost === undefined ? {} : { latency_around_host: aroundHost }) })
  console.log(formatRounds(report))
  console.log(formatStalls(stalls))
  if (aroundHost !== undefined) {
    const a = aroundHost
    console.log(`clients: p99 ${a.p99_ms} ms over ${a.responses} responses; ${a.overlapped} were in flight while a host thread ran, and the p99 of the rest is ${a.p99_not_overlapped_ms} ms`)
    console.log(`  control: with the runs moved ${a.shift_ms} ms later, ${a.overlapped_shifted} overlap them, and the p99 of the rest is ${a.p99_not_overlapped_shifted_ms} ms`)
  }
  console.log(`wrote ${path.relative(process.cwd(), out)}`)
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
