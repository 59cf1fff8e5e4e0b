// `npm run bench:profile`: the cluster under load with every node run as
// `node --cpu-prof`; summarises where the leader (and followers) spend CPU.
// Writes bench/results/profile.json and profile.txt (profile-<system>.* for
// another system than cluster-leader; inmem is the reference), and the raw
// profile-<role>.cpuprofile files (git-ignored; open them in Chrome DevTools).
//
//   npm run bench:profile -- [--duration 10] [--warmup 3] [--connections 50] [--ids 1000] [--system cluster-leader|cluster-spread|inmem]
//   npm run bench:profile -- --summarize some.cpuprofile
//   npm run bench:profile -- --attach <pid> [--duration 5]   (a running node this bench started: SIGUSR1 + inspector)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Args } from './lib/args.js'
import { attachProfile } from './lib/attach-profile.js'
import { HIGH_LIMIT_ENV } from './lib/cluster.js'
import { formatSummary, summarizeProfile, type CpuProfile } from './lib/cpuprofile.js'
import { roundRobinPath, runLoad } from './lib/load.js'
import { loadAvg, machineInfo, RESULTS_DIR, writeJson } from './lib/procs.js'
import { startSystem } from './lib/systems.js'

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['duration', 'warmup', 'connections', 'ids', 'system', 'summarize', 'top', 'attach'])
  const top = args.number('top', 25)
  const single = args.string('summarize', '')
  if (single !== '') {
    console.log(formatSummary(summarizeProfile(JSON.parse(fs.readFileSync(single, 'utf8')) as CpuProfile, top)))
    return
  }
  const durationSec = args.number('duration', 10)
  const attach = args.number('attach', 0)
  if (attach > 0) {
    const profile = await attachProfile(attach, durationSec)
    fs.writeFileSync(path.join(RESULTS_DIR, `profile-attach-${attach}.cpuprofile`), JSON.stringify(profile))
    console.log(`pid ${attach}, ${durationSec} s window (load ${loadAvg().join(' ')})\n${formatSummary(summarizeProfile(profile, top))}`)
    return
  }
  const warmupSec = args.number('warmup', 3)
  const connections = args.number('connections', 50)
  const ids = args.number('ids', 1000)
  const system = args.string('system', 'cluster-leader')
  // inmem is the reference: its profile shows what the HTTP path alone costs.
  if (system !== 'cluster-leader' && system !== 'cluster-spread' && system !== 'inmem') throw new Error('--system must be cluster-leader, cluster-spread or inmem')

  const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ratelimiter-prof-'))
  const machine = machineInfo()
  console.log(`profiling ${system} at ${connections} connections for ${durationSec} s (load ${machine.load_start.join(' ')})`)
  const sys = await startSystem(system, HIGH_LIMIT_ENV, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] })
  const pids = { ...sys.pids }
  let rps = 0
  let p99 = 0
  // Every request the system served while profiled (warm-up included), for the µs/req columns.
  let requests = 0
  try {
    const pathFor = roundRobinPath('/rate/increment', 'bench-', ids)
    if (warmupSec > 0) requests += (await runLoad({ urls: sys.targets, connections, durationSec: warmupSec, method: 'POST', pathFor })).responses
    const res = await runLoad({ urls: sys.targets, connections, durationSec, method: 'POST', pathFor })
    requests += res.responses
    rps = res.rps
    p99 = res.p99_ms
    console.log(`load: ${res.rps.toFixed(0)} req/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, errors ${res.errors}`)
  } finally {
    await sys.stop() // SIGTERM: each node exits and writes its profile
  }

  const files = fs.readdirSync(profDir)
  const report: Record<string, unknown> = {}
  const text: string[] = [`${system} @${connections} conns, ${durationSec} s (+${warmupSec} s warm-up in the profile): ${rps.toFixed(0)} req/s, p99 ${p99} ms; load ${loadAvg().join(' ')}`]
  for (const [label, pid] of Object.entries(pids)) {
    const file = files.find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'))
    if (file === undefined) {
      text.push(`\n== ${label}: no profile written (did it exit cleanly?)`)
      continue
    }
    const summary = summarizeProfile(JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile, top)
    const role = label.includes('leader') ? 'leader' : label.replace(/\s.*$/, '')
    fs.copyFileSync(path.join(profDir, file), path.join(RESULTS_DIR, `profile-${role}.cpuprofile`))
    report[label] = summary
    text.push(`\n== ${label} (pid ${pid})`, formatSummary(summary, 15, requests))
  }
  fs.rmSync(profDir, { recursive: true, force: true })
  // cluster-leader keeps the historical name; other systems get their own files.
  const base = system === 'cluster-leader' ? 'profile' : `profile-${system}`
  writeJson(path.join(RESULTS_DIR, `${base}.json`), { machine: { ...machine, load_end: loadAvg() }, system, connections, duration_s: durationSec, rps, p99_ms: p99, requests, nodes: report })
  fs.writeFileSync(path.join(RESULTS_DIR, `${base}.txt`), `${text.join('\n')}\n`)
  console.log(text.join('\n'))
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
