// `npm run bench:failover`: kill -9 the leader under steady load, N times.
// Each round:
//   1. a few closed-loop clients plus a prober (a new increment every
//      --probe-ms, not waiting for the previous one) hit the two survivors-to-be,
//      all on one audit key per round;
//   2. SIGKILL the leader; failover time = from the kill until the first
//      increment that was *sent after the kill* is answered 200 by a survivor;
//   3. stop the load, restart the killed node, wait until every node is ready;
//   4. audit: GET /rate/check on the key must show
//      burst - acked - unknown <= remaining <= burst - acked
//      (acked = 200s, unknown = timeouts/5xx/resets whose outcome the client never learned).
// At the end every round's key is audited again (after all later failovers).
//
//   npm run bench:failover -- [--kills 20] [--clients 4] [--probe-ms 10] [--pre-kill-ms 1000] [--tick-ms 50] [--election-ticks 10] [--heartbeat-ticks 2]
import path from 'node:path'
import { Args } from './lib/args.js'
import { agreedLeader, startBenchCluster, type BenchCluster } from './lib/cluster.js'
import { loadAvg, machineInfo, RESULTS_DIR, sleep, writeJson } from './lib/procs.js'
import { auditRemaining, median } from './lib/stats.js'

// One token a day refills nothing that matters during the run; the burst outlasts any round.
const BURST = 1_000_000
const AUDIT_POLICY = { RATE_LIMIT: '1', RATE_LIMIT_WINDOW_SEC: '86400', RATE_LIMIT_BURST: String(BURST) }
const CLIENT_TIMEOUT_MS = 5000

interface Tally {
  acked: number
  rejected: number
  unknown: number
  unknownByCause: Record<string, number>
  /** Earliest end time of a 200 whose request started at or after `since`. */
  firstSuccessAfter: number | null
  since: number
}

async function increment(url: string, key: string, tally: Tally): Promise<boolean> {
  const start = performance.now()
  let cause: string
  try {
    const res = await fetch(`${url}/rate/increment?client_id=${key}`, { method: 'POST', signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) })
    const body = (await res.json()) as { result?: boolean; error?: string }
    if (res.status === 200 && body.result === true) {
      tally.acked++
      const end = performance.now()
      if (start >= tally.since && (tally.firstSuccessAfter === null || end < tally.firstSuccessAfter)) tally.firstSuccessAfter = end
      return true
    }
    if (res.status === 429) {
      tally.rejected++
      return true
    }
    cause = `${res.status} ${body.error ?? ''}`.trim()
  } catch (err) {
    cause = err instanceof Error ? (err.name === 'TimeoutError' ? 'client timeout' : `${err.name}: ${(err.cause as Error | undefined)?.message ?? err.message}`) : 'error'
  }
  // Whatever went wrong, the client cannot know whether the increment was applied.
  tally.unknown++
  tally.unknownByCause[cause] = (tally.unknownByCause[cause] ?? 0) + 1
  return false
}

async function remainingOf(url: string, key: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${url}/rate/check?client_id=${key}`, { signal: AbortSignal.timeout(5000) })
      const body = (await res.json()) as { remaining_quota?: number }
      if (res.ok && typeof body.remaining_quota === 'number') return body.remaining_quota
      if (attempt >= 20) throw new Error(`check ${key}: ${res.status} ${JSON.stringify(body)}`)
    } catch (err) {
      if (attempt >= 20) throw err
    }
    await sleep(250)
  }
}

interface Round {
  round: number
  killed: string
  new_leader: string
  failover_ms: number | null
  key: string
  acked: number
  rejected: number
  unknown: number
  unknown_by_cause: Record<string, number>
  remaining: number
  allowed_min: number
  allowed_max: number
  audit_ok: boolean
  restart_ready_ms: number
}

async function oneRound(cluster: BenchCluster, round: number, opts: { clients: number; probeMs: number; preKillMs: number; maxWaitMs: number }): Promise<Round> {
  const leader = await cluster.leader(20_000)
  const survivors = cluster.names.filter((n) => n !== leader)
  const urls = survivors.map((n) => cluster.url(n))
  const key = `failover-audit-${round}`
  const tally: Tally = { acked: 0, rejected: 0, unknown: 0, unknownByCause: {}, firstSuccessAfter: null, since: Number.POSITIVE_INFINITY }
  let stop = false
  const loops: Promise<void>[] = []
  for (let c = 0; c < opts.clients; c++) {
    const url = urls[c % urls.length] as string
    loops.push(
      (async () => {
        while (!stop) if (!(await increment(url, key, tally))) await sleep(20)
      })(),
    )
  }
  const probes: Promise<boolean>[] = []
  let probeSeq = 0
  const prober = setInterval(() => {
    probes.push(increment(urls[probeSeq++ % urls.length] as string, key, tally))
  }, opts.probeMs)

  try {
    await sleep(opts.preKillMs)
    tally.since = performance.now()
    const killedAt = tally.since
    await cluster.handle.killNode(leader, 'SIGKILL')
    while (tally.firstSuccessAfter === null && performance.now() - killedAt < opts.maxWaitMs) await sleep(5)
    const failover = tally.firstSuccessAfter === null ? null : tally.firstSuccessAfter - killedAt
    await sleep(300)
    stop = true
    clearInterval(prober)
    await Promise.all([...loops, ...probes])
    const newLeader = await agreedLeader(survivors.map((n) => ({ name: n, url: cluster.url(n) })), 20_000)

    const t0 = performance.now()
    await cluster.handle.startNode(leader)
    await cluster.handle.waitReady(30_000, cluster.names)
    const restartMs = performance.now() - t0

    const remaining = await remainingOf(cluster.url(await cluster.leader(20_000)), key)
    const audit = auditRemaining(BURST, tally.acked, tally.unknown, remaining)
    return {
      round,
      killed: leader,
      new_leader: newLeader,
      failover_ms: failover === null ? null : Math.round(failover * 10) / 10,
      key,
      acked: tally.acked,
      rejected: tally.rejected,
      unknown: tally.unknown,
      unknown_by_cause: tally.unknownByCause,
      remaining,
      allowed_min: audit.min,
      allowed_max: audit.max,
      audit_ok: audit.ok,
      restart_ready_ms: Math.round(restartMs),
    }
  } finally {
    stop = true
    clearInterval(prober)
  }
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['kills', 'clients', 'probe-ms', 'pre-kill-ms', 'max-wait-ms', 'tick-ms', 'election-ticks', 'heartbeat-ticks', 'out'])
  const kills = args.number('kills', 20)
  const opts = {
    clients: args.number('clients', 4),
    probeMs: args.number('probe-ms', 10),
    preKillMs: args.number('pre-kill-ms', 1000),
    maxWaitMs: args.number('max-wait-ms', 15_000),
  }
  const timing: Record<string, string> = {}
  for (const [flag, env] of [['tick-ms', 'TICK_MS'], ['election-ticks', 'ELECTION_TICKS'], ['heartbeat-ticks', 'HEARTBEAT_TICKS']] as const) {
    const v = args.string(flag, '')
    if (v !== '') timing[env] = v
  }
  const out = path.resolve(args.string('out', path.join(RESULTS_DIR, 'failover.json')))
  const machine = machineInfo()
  const env = { ...AUDIT_POLICY, ...timing }
  console.log(`failover: ${kills} kills, ${opts.clients} clients + a probe every ${opts.probeMs} ms on the survivors; load ${machine.load_start.join(' ')}`)

  const cluster = await startBenchCluster(env)
  const rounds: Round[] = []
  const finalAudit: { key: string; remaining: number; ok: boolean }[] = []
  try {
    console.log(`cluster env: ${JSON.stringify(cluster.handle.env[cluster.names[0] ?? ''] ?? {}, ['TICK_MS', 'ELECTION_TICKS', 'HEARTBEAT_TICKS', 'REQUEST_TIMEOUT_MS', 'RATE_LIMIT', 'RATE_LIMIT_WINDOW_SEC', 'RATE_LIMIT_BURST'])}`)
    for (let r = 1; r <= kills; r++) {
      const res = await oneRound(cluster, r, opts)
      rounds.push(res)
      console.log(
        `round ${String(r).padStart(2)}: killed ${res.killed} -> ${res.new_leader}  failover ${res.failover_ms === null ? 'NONE' : `${res.failover_ms.toFixed(0)} ms`}  ` +
          `acked ${res.acked} unknown ${res.unknown} remaining ${res.remaining} in [${res.allowed_min}, ${res.allowed_max}] ${res.audit_ok ? 'ok' : 'LOST/INVENTED'}  restart+ready ${res.restart_ready_ms} ms`,
      )
    }
    const url = cluster.url(await cluster.leader(20_000))
    for (const res of rounds) {
      const remaining = await remainingOf(url, res.key)
      finalAudit.push({ key: res.key, remaining, ok: remaining >= res.allowed_min && remaining <= res.allowed_max })
    }
  } finally {
    await cluster.stop()
  }

  const times = rounds.map((r) => r.failover_ms).filter((x): x is number => x !== null)
  const summary = {
    kills: rounds.length,
    failovers_measured: times.length,
    median_ms: Math.round(median(times)),
    max_ms: times.length === 0 ? null : Math.round(Math.max(...times)),
    min_ms: times.length === 0 ? null : Math.round(Math.min(...times)),
    acked_total: rounds.reduce((a, r) => a + r.acked, 0),
    unknown_total: rounds.reduce((a, r) => a + r.unknown, 0),
    audit_ok: rounds.every((r) => r.audit_ok) && finalAudit.every((a) => a.ok),
    target_median_le_1000ms: times.length === rounds.length && median(times) <= 1000,
    target_max_le_2000ms: times.length === rounds.length && Math.max(...times) <= 2000,
  }
  writeJson(out, { machine: { ...machine, load_end: loadAvg() }, env, options: opts, summary, rounds, final_audit: finalAudit })
  console.log(
    `\nfailover over ${summary.kills} kills: median ${summary.median_ms} ms, max ${summary.max_ms} ms (min ${summary.min_ms} ms); ` +
      `${summary.acked_total} acknowledged increments, ${summary.unknown_total} unknown outcomes; ` +
      `no acknowledged increment lost: ${summary.audit_ok ? 'yes' : 'NO'} (per round and re-checked at the end)`,
  )
  console.log(`targets: median <= 1 s ${summary.target_median_le_1000ms ? 'PASS' : 'MISS'}, max <= 2 s ${summary.target_max_le_2000ms ? 'PASS' : 'MISS'}`)
  console.log(`load average at the end: ${loadAvg().join(' ')}; wrote ${path.relative(process.cwd(), out)}`)
  if (!summary.audit_ok) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
