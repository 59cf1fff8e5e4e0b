// Command line: run N seeds of random fault schedules (or one seed, with a
// trace), print failures with a replay command, end with "N passed, M failed".
//   node dist/sim/cli.js --seeds 1000 [--start 1] [--nodes 3|5] [--scenario NAME] [--bug B]... [--jobs J]
//   node dist/sim/cli.js --seed 42 [--nodes 3] [--scenario NAME] [--bug B] --trace
// Seeds are spread over worker threads (one per core by default); every seed
// is still a deterministic, single-threaded run.
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { runSeed, type RunOptions, type RunResult } from './run.js'
import { SCENARIO_NAMES } from './scenarios.js'
import { RAFT_BUGS, SIM_BUGS, type AnyBug } from './types.js'

interface Job {
  readonly seeds: readonly number[]
  readonly opts: Omit<RunOptions, 'seed'>
}
type Done = { readonly ok: boolean; readonly ops: number; readonly failure: RunResult | null }

if (isMainThread) main()
else worker()

function worker(): void {
  const job = workerData as Job
  for (const seed of job.seeds) {
    const r = runSeed({ ...job.opts, seed })
    const msg: Done = { ok: r.ok, ops: r.stats.ops, failure: r.ok ? null : { ...r, trace: [] } }
    parentPort?.postMessage(msg)
  }
}

function main(): void {
  // `| head` closes stdout early: stop quietly instead of crashing.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw e
  })
  const ALL_BUGS: readonly string[] = [...RAFT_BUGS, ...SIM_BUGS]
  const usage = (msg: string): never => {
    process.stderr.write(
      `${msg}\nusage: cli.js --seeds N [--start S] [--nodes 3|5] [--scenario ${SCENARIO_NAMES.join('|')}] [--bug ${ALL_BUGS.join('|')}] [--jobs J]\n` +
        `       cli.js --seed S [--nodes 3|5] [--scenario NAME] [--bug B] [--trace]\n`,
    )
    process.exit(2)
  }
  const int = (v: string | undefined, name: string, dflt: number): number => {
    if (v === undefined) return dflt
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < 0) usage(`--${name} must be a non-negative integer, got ${v}`)
    return n
  }
  let values
  try {
    values = parseArgs({
      options: {
        seeds: { type: 'string' },
        start: { type: 'string' },
        seed: { type: 'string' },
        nodes: { type: 'string' },
        scenario: { type: 'string' },
        bug: { type: 'string', multiple: true },
        jobs: { type: 'string' },
        trace: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e))
  }
  if (values.help) usage('ratelimiter deterministic simulator')
  const nodes = values.nodes === undefined ? undefined : int(values.nodes, 'nodes', 3)
  if (nodes !== undefined && nodes !== 3 && nodes !== 5) usage('--nodes must be 3 or 5')
  const scenario = values.scenario ?? 'random'
  if (!SCENARIO_NAMES.includes(scenario)) usage(`unknown scenario ${scenario}`)
  const bugs = (values.bug ?? []).map((b): AnyBug => {
    if (!ALL_BUGS.includes(b)) usage(`unknown bug ${b}`)
    return b as AnyBug
  })
  const opts: Omit<RunOptions, 'seed'> = { ...(nodes === undefined ? {} : { nodes }), scenario, bugs }

  if (values.seed !== undefined) {
    const seed = int(values.seed, 'seed', 1)
    const r = runSeed({ ...opts, seed, trace: values.trace ? 'full' : 'hash' })
    if (values.trace) for (const line of r.trace) process.stdout.write(`${line}\n`)
    report(r)
    const s = r.stats
    process.stdout.write(
      `seed ${seed}: ${r.nodes} nodes, ${s.ops} ops (${s.acked} acked, ${s.unknown} unknown), ${s.elections} elections, ` +
        `${s.crashes} crashes, ${s.messages} messages, ${s.events} events, trace ${r.traceDigest}\n`,
    )
    process.stdout.write(`${r.ok ? 1 : 0} passed, ${r.ok ? 0 : 1} failed\n`)
    process.exitCode = r.ok ? 0 : 1
    return
  }

  const count = int(values.seeds, 'seeds', 100)
  const start = int(values.start, 'start', 1)
  const jobs = Math.max(1, Math.min(int(values.jobs, 'jobs', availableParallelism()), count))
  const t0 = performance.now()
  let passed = 0
  let ops = 0
  const failures: RunResult[] = []
  let running = jobs
  for (let j = 0; j < jobs; j++) {
    const seeds: number[] = []
    for (let s = start + j; s < start + count; s += jobs) seeds.push(s)
    const w = new Worker(new URL(import.meta.url), { workerData: { seeds, opts } satisfies Job })
    w.on('message', (d: Done) => {
      ops += d.ops
      if (d.ok) passed++
      else if (d.failure !== null) failures.push(d.failure)
    })
    w.on('error', (e) => {
      process.stderr.write(`worker failed: ${e.stack ?? String(e)}\n`)
      process.exitCode = 2
    })
    w.on('exit', () => {
      if (--running > 0) return
      failures.sort((a, b) => a.seed - b.seed)
      for (const f of failures) report(f)
      const secs = (performance.now() - t0) / 1000
      process.stdout.write(`${count} seeds in ${secs.toFixed(1)} s on ${jobs} threads (${(count / secs).toFixed(1)} seeds/s), ${ops} client ops\n`)
      process.stdout.write(`${passed} passed, ${failures.length} failed\n`)
      if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = failures.length === 0 ? 0 : 1
    })
  }
}

function report(r: RunResult): void {
  const v = r.violation
  if (v === null) return
  process.stdout.write(
    `FAIL seed ${r.seed} (${r.nodes} nodes, ${r.scenario}${r.bugs.length > 0 ? `, bugs ${r.bugs.join(',')}` : ''}) at ${v.at} ms\n` +
      `  invariant: ${v.invariant}\n  ${v.message}\n  replay: ${r.replay}\n`,
  )
}
