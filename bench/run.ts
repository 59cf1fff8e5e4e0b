// `npm run bench`: every system, started fresh, warmed up, then loaded with
// autocannon at each connection count for a fixed time over N client ids.
// Writes bench/results/latest.json and latest.svg and prints the ratio table.
//
// With --rounds N every system is measured N times, the systems interleaved
// (round 1 of each, then round 2 of each...), and the table shows medians:
// on a shared host one run's numbers can swing by half from the next's.
//
//   npm run bench -- [--duration 10] [--warmup 3] [--connections 1,50] [--ids 1000] [--rounds 1]
//                    [--systems inmem,redis-lua,redis-lua-fsync,cluster-leader,cluster-spread]
//                    [--out bench/results/latest.json] [--host-threads kdamond,...]
//
// --host-threads samples those kernel threads of the host during each load
// and adds the p99 apart from the requests in flight while one ran
// (lib/host-threads.ts); off by default, since it costs about 4% of a core.
import fs from 'node:fs'
import path from 'node:path'
import { renderChart } from './chart.js'
import { Args } from './lib/args.js'
import { HIGH_LIMIT_ENV } from './lib/cluster.js'
import { hostThreadsFor, watchHost, type KernelThread, type LatencyAroundHost } from './lib/host-threads.js'
import { roundRobinPath, runLoad, type LoadResult } from './lib/load.js'
import { frameRates, scrapeFrameCounts } from './lib/peer-frames.js'
import { cpuSeconds, loadAvg, machineInfo, RESULTS_DIR, sleep, switchCounts, writeJson } from './lib/procs.js'
import { cpuPercent, formatChecks, formatSwitches, formatTable, medianOfRounds, round3, switchesPerRequest, targetChecks, withRatios, type SwitchCounts } from './lib/stats.js'
import { isSystemName, startSystem, SYSTEM_NAMES, unavailable, type RunningSystem, type SystemName } from './lib/systems.js'

const BASELINES = ['inmem', 'redis-lua-fsync'] as const

export interface RunRecord {
  name: SystemName
  connections: number
  rps: number
  p50_ms: number
  p99_ms: number
  errors: number
  non2xx: number
  limited: number
  ok: number
  p90_ms: number
  max_ms: number
  duration_s: number
  responses: number
  timeouts: number
  /** Percent of one core per process over the run, and the load generator (this process). */
  cpu: Record<string, number>
  cpu_total_pct: number
  /**
   * Context switches a request, summed over each process's threads, and the
   * load generator's: a wake-up costs far more than the work it wakes for on
   * a shared virtual machine, so this explains much of a system's CPU.
   */
  switches_per_req: Record<string, SwitchCounts>
  /** Cluster systems: frames a second each node sent each peer (`node-1→node-2`), from their /metrics. */
  peer_frames_per_s?: Record<string, number>
  /** With --host-threads: the clients' p99 apart from the requests in flight while those kernel threads ran. */
  latency_around_host?: LatencyAroundHost
  targets: number
  load_avg: number[]
  info: Record<string, string>
  /** 1-based; with --rounds N each system is measured N times. */
  round: number
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['duration', 'warmup', 'connections', 'ids', 'systems', 'out', 'pause', 'rounds', 'host-threads'])
  const durationSec = args.number('duration', 10)
  const warmupSec = args.number('warmup', 3)
  const pauseMs = args.number('pause', 1) * 1000
  const ids = args.number('ids', 1000)
  const rounds = args.number('rounds', 1)
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer')
  const connections = args.list('connections', ['1', '50']).map(Number)
  const out = path.resolve(args.string('out', path.join(RESULTS_DIR, 'latest.json')))
  const systems = args.list('systems', SYSTEM_NAMES)
  // Off by default: the sampler costs the load generator about 4% of a core.
  const hostThreads = hostThreadsFor(args.list('host-threads', []))
  for (const s of systems) if (!isSystemName(s)) throw new Error(`unknown system ${s} (known: ${SYSTEM_NAMES.join(', ')})`)
  if (connections.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--connections must be positive integers')

  const machine = machineInfo()
  const startedAt = new Date().toISOString()
  console.log(`bench: ${systems.join(', ')} at ${connections.join(' and ')} connections, ${durationSec} s each (warm-up ${warmupSec} s), ${ids} client ids`)
  console.log(`machine: ${machine.cpus} x ${machine.cpu_model}, node ${machine.node}, load ${machine.load_start.join(' ')}`)

  const allRuns: RunRecord[] = []
  const skipped: { name: string; reason: string }[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const name of systems as SystemName[]) {
      const reason = unavailable(name)
      if (reason !== null) {
        if (round === 1) {
          console.log(`SKIP ${name}: ${reason}`)
          skipped.push({ name, reason })
        }
        continue
      }
      process.stdout.write(`\n== ${name}${rounds > 1 ? ` (round ${round} of ${rounds})` : ''}: starting... `)
      let sys: RunningSystem
      try {
        sys = await startSystem(name, HIGH_LIMIT_ENV)
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err)
        console.log(`FAILED to start: ${msg}`)
        skipped.push({ name, reason: `round ${round}: failed to start: ${msg.split('\n')[0] ?? ''}` })
        continue
      }
      try {
        console.log(`up (${Object.entries(sys.pids).map(([k, v]) => `${k}=${v}`).join(', ')})`)
        const pathFor = roundRobinPath('/rate/increment', 'bench-', ids)
        if (warmupSec > 0) {
          const w = await runLoad({ urls: sys.targets, connections: Math.max(...connections), durationSec: warmupSec, method: 'POST', pathFor })
          console.log(`   warm-up: ${w.rps.toFixed(0)} req/s, ${w.errors} errors`)
        }
        for (const c of connections) {
          await sleep(pauseMs)
          const rec = { ...(await measure(sys, c, durationSec, pathFor, hostThreads)), round }
          allRuns.push(rec)
          console.log(
            `   ${String(c).padStart(3)} conns: ${rec.rps.toFixed(0).padStart(6)} req/s  p50 ${rec.p50_ms.toFixed(2)} ms  p99 ${rec.p99_ms.toFixed(2)} ms  ` +
              `errors ${rec.errors}  429 ${rec.limited}  cpu ${Object.entries(rec.cpu).map(([k, v]) => `${k} ${v.toFixed(0)}%`).join(', ')}`,
          )
          console.log(`              switches/req ${formatSwitches(rec.switches_per_req)}`)
          if (rec.peer_frames_per_s !== undefined) {
            console.log(`              frames/s ${Object.entries(rec.peer_frames_per_s).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')}`)
          }
          const a = rec.latency_around_host
          if (a !== undefined) {
            console.log(
              `              host threads: ${a.overlapped} of ${a.responses} requests in flight while one ran; p99 of the rest ${a.p99_not_overlapped_ms} ms ` +
                `(control, the runs moved ${a.shift_ms} ms: ${a.p99_not_overlapped_shifted_ms} ms)`,
            )
          }
        }
      } finally {
        await sys.stop()
      }
    }
  }
  const runs = rounds > 1 ? medianOfRounds(allRuns) : allRuns

  const result = {
    machine: { ...machine, load_end: loadAvg() },
    started_at: startedAt,
    duration_s: durationSec,
    warmup_s: warmupSec,
    client_ids: ids,
    rounds,
    policy: HIGH_LIMIT_ENV,
    skipped,
    runs,
    ...(rounds > 1 ? { round_runs: allRuns } : {}),
  }
  writeJson(out, result)
  const svg = out.replace(/\.json$/, '.svg')
  fs.writeFileSync(svg, renderChart(result))

  if (rounds > 1) console.log(`\nmedians over ${rounds} interleaved rounds (req/s of each round in latest.json, rps_rounds)`)
  console.log(`\nreq/s ratios are to the baseline at the same connection count (${BASELINES.join(', ')}):\n`)
  console.log(formatTable(withRatios(runs, BASELINES), BASELINES))
  console.log(`\nissue 4 targets:\n${formatChecks(targetChecks(runs))}`)
  for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`)
  console.log(`\nload average at the end: ${result.machine.load_end.join(' ')}`)
  console.log(`wrote ${path.relative(process.cwd(), out)} and ${path.relative(process.cwd(), svg)}`)
}

async function measure(
  sys: RunningSystem,
  connections: number,
  durationSec: number,
  pathFor: (i: number) => string,
  hostThreads: readonly KernelThread[] | null,
): Promise<Omit<RunRecord, 'round'>> {
  const pids = Object.entries(sys.pids)
  const nodes = sys.nodes
  const framesBefore = nodes === undefined ? null : await scrapeFrameCounts(nodes)
  const before = pids.map(([, pid]) => cpuSeconds(pid))
  // Every server process and the load generator (this process).
  const watched: (readonly [string, number])[] = [...pids, ['loadgen', process.pid]]
  const switchesBefore = watched.map(([, pid]) => switchCounts(pid))
  const watch = hostThreads === null ? null : await watchHost(hostThreads)
  const self0 = process.cpuUsage()
  const t0 = performance.now()
  const res: LoadResult = await runLoad({ urls: sys.targets, connections, durationSec, method: 'POST', pathFor, ...(watch === null ? {} : { onResponse: watch.onResponse }) })
  const wall = (performance.now() - t0) / 1000
  const selfUs = process.cpuUsage(self0)
  // After the load generator's CPU is read: collecting the samples and matching them to the responses is not the load's work.
  const host = await watch?.finish()
  const cpu: Record<string, number> = {}
  pids.forEach(([label, pid], i) => {
    cpu[label] = Math.round(cpuPercent(before[i] ?? Number.NaN, cpuSeconds(pid), wall) * 10) / 10
  })
  cpu['loadgen'] = Math.round(((selfUs.user + selfUs.system) / 1e6 / wall) * 1000) / 10
  const switches: Record<string, SwitchCounts> = {}
  watched.forEach(([label, pid], i) => {
    const s = switchesPerRequest(switchesBefore[i] ?? null, switchCounts(pid), res.responses)
    if (s !== null) switches[label] = s
  })
  const frames = nodes === undefined || framesBefore === null ? null : frameRates(framesBefore, await scrapeFrameCounts(nodes), wall)
  const info: Record<string, string> = { ...sys.info }
  if (sys.leader !== undefined) {
    // A leader change during the run would make the numbers meaningless: record it.
    const now = await sys.leader().catch(() => 'unknown')
    if (now !== sys.info['leader']) info['leader_after'] = now
  }
  return {
    name: sys.name,
    connections,
    rps: Math.round(res.rps * 10) / 10,
    p50_ms: res.p50_ms,
    p99_ms: res.p99_ms,
    errors: res.errors,
    non2xx: res.non2xx,
    limited: res.limited,
    ok: res.ok,
    p90_ms: res.p90_ms,
    max_ms: res.max_ms,
    duration_s: round3(res.durationSec),
    responses: res.responses,
    timeouts: res.timeouts,
    cpu,
    cpu_total_pct: Math.round(Object.values(cpu).reduce((a, b) => a + b, 0) * 10) / 10,
    switches_per_req: switches,
    ...(frames === null ? {} : { peer_frames_per_s: frames }),
    ...(host === undefined ? {} : { latency_around_host: host.latency }),
    targets: sys.targets.length,
    load_avg: loadAvg(),
    info,
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
