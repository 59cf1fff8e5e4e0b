// `npm run bench:keys`: many distinct active client ids in the cluster.
//   1. push one increment for each of --ids ids (default 1,000,000) through
//      the leader; the policy refills one token a day, so no bucket is full
//      again during the run and none may be evicted;
//   2. RSS of every node (/proc/<pid>/status VmRSS) before and after;
//   3. throughput of a load over all those ids vs a load over 1,000 ids on
//      the fresh cluster before the push (the "1,000-id figure"), and
//      vs a 1,000-id load after the push (same connections and duration).
//
//   npm run bench:keys -- [--ids 1000000] [--hot-ids 1000] [--duration 10] [--connections 50] [--rounds 1]
import path from 'node:path'
import { Args } from './lib/args.js'
import { startBenchCluster, status } from './lib/cluster.js'
import { runLoad, type LoadResult } from './lib/load.js'
import { cpuSeconds, loadAvg, machineInfo, peakRssMB, RESULTS_DIR, rssMB, sleep, writeJson } from './lib/procs.js'
import { median, ratio } from './lib/stats.js'

const BURST = 100_000
const POLICY = { RATE_LIMIT: '1', RATE_LIMIT_WINDOW_SEC: '86400', RATE_LIMIT_BURST: String(BURST) }

function summarize(r: LoadResult): Record<string, number> {
  return { rps: Math.round(r.rps), p50_ms: r.p50_ms, p99_ms: r.p99_ms, ok: r.ok, errors: r.errors, limited: r.limited, duration_s: r.durationSec }
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['ids', 'hot-ids', 'duration', 'connections', 'rounds', 'out'])
  const ids = args.number('ids', 1_000_000)
  const hotIds = args.number('hot-ids', 1000)
  const durationSec = args.number('duration', 10)
  const connections = args.number('connections', 50)
  const rounds = Math.max(1, args.number('rounds', 1))
  const out = path.resolve(args.string('out', path.join(RESULTS_DIR, 'keys.json')))
  const machine = machineInfo()
  console.log(`keys: ${ids} ids pushed through the leader, then ${durationSec} s loads over ${ids} vs ${hotIds} ids at ${connections} connections; load ${machine.load_start.join(' ')}`)

  const cluster = await startBenchCluster(POLICY)
  const rss = (): Record<string, number> => Object.fromEntries(Object.entries(cluster.pids()).map(([n, pid]) => [n, Math.round(rssMB(pid))]))
  try {
    const leader = await cluster.leader()
    const termAtStart = (await status(cluster.url(leader))).term
    const idPath = (n: number) => (i: number) => `/rate/increment?client_id=k-${i % n}`
    // Warm the JIT on a few ids so the baseline RSS is a running node's.
    await runLoad({ urls: [cluster.url(leader)], connections, durationSec: 3, method: 'POST', pathFor: idPath(100) })
    const fresh = await runLoad({ urls: [cluster.url(leader)], connections, durationSec, method: 'POST', pathFor: (i) => `/rate/increment?client_id=fresh-${i % hotIds}` })
    console.log(`  fresh cluster, ${hotIds} ids: ${fresh.rps.toFixed(0)} req/s p50 ${fresh.p50_ms} ms p99 ${fresh.p99_ms} ms errors ${fresh.errors}`)
    await sleep(1000)
    const rssBefore = rss()
    console.log(`leader ${leader}; RSS before (MB): ${JSON.stringify(rssBefore)}`)

    const cpu0 = Object.fromEntries(Object.entries(cluster.pids()).map(([n, pid]) => [n, cpuSeconds(pid)]))
    const t0 = performance.now()
    let last = t0
    const timer = setInterval(() => {
      last = performance.now()
      console.log(`  ... ${((last - t0) / 1000).toFixed(0)} s, RSS ${JSON.stringify(rss())}`)
    }, 30_000)
    let push: LoadResult
    try {
      push = await runLoad({ urls: [cluster.url(leader)], connections, durationSec: 0, amount: ids, method: 'POST', pathFor: idPath(ids) })
    } finally {
      clearInterval(timer)
    }
    const pushSec = (performance.now() - t0) / 1000
    const pushCpu = Object.fromEntries(Object.entries(cluster.pids()).map(([n, pid]) => [n, Math.round((cpuSeconds(pid) - (cpu0[n] ?? 0)) * 10) / 10]))
    console.log(`pushed ${push.responses} increments (${push.ok} ok, ${push.errors} errors) in ${pushSec.toFixed(0)} s: ${push.rps.toFixed(0)} req/s`)
    await sleep(2000)
    const rssAfterPush = rss()
    console.log(`RSS after ${ids} ids (MB): ${JSON.stringify(rssAfterPush)}`)

    // The buckets are really there: a sample of ids shows a spent token on every node's linearizable read.
    const sample: { id: string; remaining: number }[] = []
    for (let s = 0; s < 20; s++) {
      const id = `k-${Math.floor(((s + 0.5) / 20) * ids)}`
      const node = cluster.names[s % cluster.names.length] as string
      const res = await fetch(`${cluster.url(node)}/rate/check?client_id=${id}`)
      const body = (await res.json()) as { remaining_quota?: number }
      sample.push({ id, remaining: body.remaining_quota ?? -1 })
    }
    const sampleHeld = sample.filter((x) => x.remaining >= 0 && x.remaining < BURST).length
    console.log(`sampled ${sample.length} ids: ${sampleHeld} hold a non-full bucket`)

    // Elections under heavy machine load move the leader: the loads go to whoever leads now.
    const loadLeader = await cluster.leader()
    const url = cluster.url(loadLeader)
    const termAtLoad = (await status(url)).term
    if (loadLeader !== leader || termAtLoad !== termAtStart) {
      console.log(`leader changed during the push: ${leader} (term ${termAtStart}) -> ${loadLeader} (term ${termAtLoad}); the push was partly forwarded`)
    }
    const hot: LoadResult[] = []
    const all: LoadResult[] = []
    let offset = 0
    for (let r = 0; r < rounds; r++) {
      const h = await runLoad({ urls: [url], connections, durationSec, method: 'POST', pathFor: idPath(hotIds) })
      hot.push(h)
      console.log(`  ${hotIds} ids: ${h.rps.toFixed(0)} req/s p50 ${h.p50_ms} ms p99 ${h.p99_ms} ms errors ${h.errors} 429 ${h.limited}`)
      const start = offset
      const a = await runLoad({ urls: [url], connections, durationSec, method: 'POST', pathFor: (i) => `/rate/increment?client_id=k-${(start + i) % ids}` })
      offset += a.responses + 1000
      all.push(a)
      console.log(`  ${ids} ids: ${a.rps.toFixed(0)} req/s p50 ${a.p50_ms} ms p99 ${a.p99_ms} ms errors ${a.errors} 429 ${a.limited}`)
    }
    const rssEnd = rss()
    const rssPeak = Object.fromEntries(Object.entries(cluster.pids()).map(([n, pid]) => [n, Math.round(peakRssMB(pid))]))
    const termAtEnd = (await status(url)).term
    const hotRps = median(hot.map((x) => x.rps))
    const allRps = median(all.map((x) => x.rps))
    const rel = ratio(allRps, fresh.rps)
    const relHot = ratio(allRps, hotRps)
    const maxRss = Math.max(...Object.values(rssAfterPush), ...Object.values(rssEnd))
    const summary = {
      ids,
      rss_mb_before: rssBefore,
      rss_mb_after_push: rssAfterPush,
      rss_mb_end: rssEnd,
      max_rss_mb: maxRss,
      peak_rss_mb: rssPeak,
      push: { ...summarize(push), seconds: Math.round(pushSec), cpu_s: pushCpu },
      sample_held: `${sampleHeld}/${sample.length}`,
      leader_at_push: leader,
      leader_at_load: loadLeader,
      terms: { start: termAtStart, load: termAtLoad, end: termAtEnd },
      rps_fresh_hot: Math.round(fresh.rps),
      rps_hot: Math.round(hotRps),
      rps_all: Math.round(allRps),
      all_vs_fresh_hot: rel === null ? null : Math.round(rel * 100) / 100,
      all_vs_hot: relHot === null ? null : Math.round(relHot * 100) / 100,
      target_rss_lt_300mb: maxRss < 300,
      target_within_20pct: rel !== null && rel >= 0.8,
    }
    writeJson(out, {
      machine: { ...machine, load_end: loadAvg() },
      policy: POLICY,
      connections,
      duration_s: durationSec,
      summary,
      sample,
      runs: { fresh_hot: summarize(fresh), hot: hot.map(summarize), all: all.map(summarize) },
    })
    console.log(
      `\n${ids} ids: max RSS ${maxRss} MB per node (${summary.target_rss_lt_300mb ? 'PASS' : 'MISS'} < 300 MB); ` +
        `throughput ${summary.rps_all} req/s over ${ids} ids vs ${summary.rps_fresh_hot} over ${hotIds} ids on the fresh cluster = ${summary.all_vs_fresh_hot}x ` +
        `(${summary.target_within_20pct ? 'PASS' : 'MISS'} within 20%; ${summary.rps_hot} req/s over ${hotIds} ids after the push = ${summary.all_vs_hot}x)`,
    )
    console.log(`peak RSS over the whole run (VmHWM, MB): ${JSON.stringify(rssPeak)}`)
    console.log(`load average at the end: ${loadAvg().join(' ')}; wrote ${path.relative(process.cwd(), out)}`)
  } finally {
    await cluster.stop()
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
