// `npm run bench:sync`: what one synced write costs on this machine, made
// three ways (bench/lib/sync-writes.ts): on the calling thread, through the
// libuv threadpool, and through the node's log store (LevelDB). Each probe
// runs in its own process, first on an idle machine, then while the
// cluster-leader system is under load, the probes interleaved round by round.
// The gap between `inline` and `threadpool` is the cost of the hand-off to a
// worker thread and back, which every LevelDB write of a node pays.
// Writes bench/results/sync.json.
//
//   npm run bench:sync -- [--seconds 3] [--rounds 3] [--bytes 400] [--connections 50] [--ids 1000] [--idle-only]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Args } from './lib/args.js'
import { HIGH_LIMIT_ENV } from './lib/cluster.js'
import { roundRobinPath, runLoad, type LoadResult } from './lib/load.js'
import { BENCH_DIR, loadAvg, machineInfo, RESULTS_DIR, spawnChild, TS_LOADER_ARGS, writeJson } from './lib/procs.js'
import { formatSyncTable, parseProbeResult, summarizeSync, SYNC_MODE_MEANING, SYNC_MODES, withInlineRatio, type SyncMode, type SyncRow } from './lib/sync-writes.js'
import { startSystem } from './lib/systems.js'

/** A probe's start-up (the TypeScript loader) on top of its measured seconds, for sizing the load. */
const PROBE_OVERHEAD_SEC = 2

interface ProbeOptions {
  readonly seconds: number
  readonly bytes: number
  readonly workDir: string
}

/** Runs every probe `rounds` times, rotating their order each round; latencies by mode. */
async function probeAll(rounds: number, opts: ProbeOptions, phase: string): Promise<SyncRow[]> {
  const latencies = new Map<SyncMode, number[]>(SYNC_MODES.map((m) => [m, []]))
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < SYNC_MODES.length; k++) {
      const mode = SYNC_MODES[(round + k) % SYNC_MODES.length] as SyncMode
      const got = await runProbe(mode, opts, `${phase}-${round}`)
      latencies.get(mode)?.push(...got)
    }
  }
  return withInlineRatio(SYNC_MODES.map((m) => summarizeSync(m, latencies.get(m) ?? [])))
}

async function runProbe(mode: SyncMode, opts: ProbeOptions, tag: string): Promise<number[]> {
  const dir = path.join(opts.workDir, `${tag}-${mode}`)
  const out = path.join(opts.workDir, `${tag}-${mode}.json`)
  const args = [...TS_LOADER_ARGS, path.join(BENCH_DIR, 'sync-probe.ts'), '--mode', mode, '--dir', dir, '--seconds', String(opts.seconds), '--bytes', String(opts.bytes), '--out', out]
  const child = await spawnChild(`probe-${tag}-${mode}`, process.execPath, args, { env: { TS_NODE_TRANSPILE_ONLY: '1' }, logDir: opts.workDir })
  const timer = setTimeout(() => void child.stop(), (opts.seconds + 30) * 1000)
  await child.exited
  clearTimeout(timer)
  if (!fs.existsSync(out)) throw new Error(`the ${mode} probe left no result; log: ${child.logFile}`)
  const result = parseProbeResult(fs.readFileSync(out, 'utf8'))
  fs.rmSync(dir, { recursive: true, force: true })
  return result.latencies
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['seconds', 'rounds', 'bytes', 'connections', 'ids', 'idle-only'])
  const seconds = args.number('seconds', 3)
  const rounds = args.number('rounds', 3)
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer')
  const bytes = args.number('bytes', 400)
  const connections = args.number('connections', 50)
  const ids = args.number('ids', 1000)
  const idleOnly = args.string('idle-only', 'false') === 'true'
  const machine = machineInfo()
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ratelimiter-sync-'))
  const opts: ProbeOptions = { seconds, bytes, workDir }
  console.log(`synced writes of ${bytes} bytes, ${seconds} s a probe, ${rounds} rounds (load ${machine.load_start.join(' ')})`)
  for (const m of SYNC_MODES) console.log(`  ${m.padEnd(10)} ${SYNC_MODE_MEANING[m]}`)
  try {
    const idle = await probeAll(rounds, opts, 'idle')
    console.log(`\nidle machine:\n${formatSyncTable(idle)}`)
    let underLoad: { system: string; connections: number; load: Pick<LoadResult, 'rps' | 'p50_ms' | 'p99_ms' | 'errors'>; rows: SyncRow[] } | null = null
    if (!idleOnly) {
      const sys = await startSystem('cluster-leader', HIGH_LIMIT_ENV)
      try {
        const pathFor = roundRobinPath('/rate/increment', 'bench-', ids)
        await runLoad({ urls: sys.targets, connections, durationSec: 3, method: 'POST', pathFor })
        // One load long enough to cover every probe; the probes start once it runs.
        const durationSec = Math.ceil(rounds * SYNC_MODES.length * (seconds + PROBE_OVERHEAD_SEC)) + 2
        const load = runLoad({ urls: sys.targets, connections, durationSec, method: 'POST', pathFor })
        const rows = await probeAll(rounds, opts, 'load')
        const res = await load
        underLoad = { system: 'cluster-leader', connections, load: { rps: Math.round(res.rps), p50_ms: res.p50_ms, p99_ms: res.p99_ms, errors: res.errors }, rows }
        console.log(`\nwhile cluster-leader serves ${underLoad.load.rps} req/s at ${connections} connections:\n${formatSyncTable(rows)}`)
      } finally {
        await sys.stop()
      }
    }
    const out = path.join(RESULTS_DIR, 'sync.json')
    writeJson(out, { machine: { ...machine, load_end: loadAvg() }, bytes, seconds, rounds, modes: SYNC_MODE_MEANING, idle, under_load: underLoad })
    console.log(`wrote ${path.relative(process.cwd(), out)}`)
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
