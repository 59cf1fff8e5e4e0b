// The host's own kernel threads during a measured window. On the bench VM a
// DAMON monitor (kdamond) wakes every half second and, under load, runs for
// 10–60 ms, taking one of the two vCPUs from the nodes; bench:rounds sets the
// leader's stalls and the clients' latencies against these runs. A worker
// thread reads each watched thread's state every millisecond, so the load
// generator's event loop never waits for the sampling; the worker itself
// costs about 4% of a core.
import fs from 'node:fs'
import { Worker } from 'node:worker_threads'
import { splitProcStat } from './procs.js'
import { percentile, round3, Samples } from './stats.js'

/** Kernel housekeeping threads (memory monitoring, reclaim, compaction): not ours, though their work may grow with the memory a load touches. */
export const DEFAULT_HOST_THREADS: readonly string[] = ['kdamond', 'kswapd', 'kcompactd', 'khugepaged']

export interface KernelThread {
  readonly pid: number
  readonly name: string
}

/** A stretch of time in which a thread ran, on the monotonic clock in ms, and the CPU it used in it. */
export interface RunSpan {
  readonly from: number
  readonly to: number
  readonly cpu_ms: number
}

export interface ThreadRuns {
  readonly name: string
  readonly spans: RunSpan[]
}

/**
 * One reading at `t` (monotonic ms): whether the thread was running (or
 * ready to run), and its cumulative run time in ns, read only while it runs
 * and at the first reading after (null otherwise).
 */
export interface RunSample {
  readonly t: number
  readonly running: boolean
  readonly ns: number | null
}

/** pid, command name and parent pid (field 4) from a /proc/<pid>/stat line; null if it does not parse. */
export function parseProcStat(line: string): { pid: number; name: string; ppid: number } | null {
  const stat = splitProcStat(line)
  if (stat === null) return null
  const ppid = Number(stat.rest[1])
  if (!Number.isInteger(stat.pid) || !Number.isInteger(ppid)) return null
  return { pid: stat.pid, name: stat.name, ppid }
}

/** Kernel threads (children of kthreadd, pid 2) whose name starts with one of `prefixes`. */
export function findKernelThreads(prefixes: readonly string[]): KernelThread[] {
  const found: KernelThread[] = []
  if (prefixes.length === 0) return found
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: ReturnType<typeof parseProcStat>
    try {
      stat = parseProcStat(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'))
    } catch {
      continue // gone since the listing
    }
    if (stat === null || stat.ppid !== 2) continue
    if (prefixes.some((p) => stat.name.startsWith(p))) found.push({ pid: stat.pid, name: stat.name })
  }
  return found
}

/** Two runs this close are one: a running thread shows an odd reading asleep now and then. */
export const MERGE_GAP_MS = 2

/**
 * The stretches in which a thread ran, from its readings in time order: from
 * the first reading that finds it running to the first that finds it asleep,
 * with runs less than MERGE_GAP_MS apart taken as one. Its state is read, not
 * its run time, because the kernel adds to the run time of a running thread
 * only at each scheduler tick (4 ms here). A span's CPU is the run time
 * gained since the reading before it.
 */
export function runSpans(samples: readonly RunSample[]): RunSpan[] {
  const spans: RunSpan[] = []
  let known: number | null = null // the latest run time read
  let open: { from: number; baseline: number | null; carried: number } | null = null
  for (const s of samples) {
    if (s.running && open === null) {
      const last = spans.at(-1)
      open = last !== undefined && s.t - last.to < MERGE_GAP_MS ? { from: last.from, baseline: known, carried: spans.pop()?.cpu_ms ?? 0 } : { from: s.t, baseline: known, carried: 0 }
    } else if (!s.running && open !== null) {
      spans.push({ from: open.from, to: s.t, cpu_ms: open.carried + cpuBetween(open.baseline, s.ns) })
      open = null
    }
    if (s.ns !== null) known = s.ns
  }
  const last = samples.at(-1)
  if (open !== null && last !== undefined && last.t > open.from) spans.push({ from: open.from, to: last.t, cpu_ms: open.carried + cpuBetween(open.baseline, known) })
  return spans
}

function cpuBetween(before: number | null, after: number | null): number {
  return before === null || after === null ? 0 : Math.max(0, after - before) / 1e6
}

/** Now on the monotonic clock (ms) that the samples, and the nodes' round traces, use. */
export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000

/** A client's request: when its response arrived (monotonic ms) and how long it took. */
export interface Response {
  readonly end: number
  readonly ms: number
}

export interface LatencyAroundHost {
  readonly responses: number
  /** Responses whose request was in flight while a watched thread ran. */
  readonly overlapped: number
  readonly p99_ms: number
  /** The p99 of the others: what the p99 would be if those requests were simply left out (not what it would be without the host's runs). */
  readonly p99_not_overlapped_ms: number
  /**
   * The control: the same, with every run moved `shift_ms` later. Leaving
   * out the requests around any stretches that long moves the p99 a little
   * by itself; the host's runs matter by how much more they move it.
   */
  readonly shift_ms: number
  readonly overlapped_shifted: number
  readonly p99_not_overlapped_shifted_ms: number
}

/** The clients' p99, and the p99 of the requests that no run of the host's threads overlapped (and of those clear of the runs moved `shiftMs` later). */
export function latencyAroundHost(responses: readonly Response[], host: readonly ThreadRuns[], shiftMs = 250): LatencyAroundHost {
  const spans = host.flatMap((h) => h.spans)
  const shifted = spans.map((s) => ({ from: s.from + shiftMs, to: s.to + shiftMs }))
  const all = new Samples()
  const clear = new Samples()
  const clearShifted = new Samples()
  const overlaps = (list: readonly { from: number; to: number }[], r: Response): boolean => list.some((s) => s.from < r.end && s.to > r.end - r.ms)
  for (const r of responses) {
    all.add(r.ms)
    if (!overlaps(spans, r)) clear.add(r.ms)
    if (!overlaps(shifted, r)) clearShifted.add(r.ms)
  }
  const p99 = (xs: Samples): number => round3(percentile(xs.sorted(), 99))
  return {
    responses: all.length,
    overlapped: all.length - clear.length,
    p99_ms: p99(all),
    p99_not_overlapped_ms: p99(clear),
    shift_ms: shiftMs,
    overlapped_shifted: all.length - clearShifted.length,
    p99_not_overlapped_shifted_ms: p99(clearShifted),
  }
}

// The sampler, run in a worker: every `intervalMs` it reads each thread's
// state (field 3 of its stat line; R is running or ready to run), and its run
// time while it runs, and when told to stop posts every reading back.
const SAMPLER = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000
// Each file stays open and is read again from its start: one syscall a reading.
const openOr = (file) => { try { return fs.openSync(file, 'r') } catch { return -1 } }
const buf = Buffer.alloc(1024)
const readFd = (fd) => { try { return fd < 0 ? '' : buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, 0)) } catch { return '' } }
const stats = workerData.pids.map((pid) => openOr('/proc/' + pid + '/stat'))
const schedstats = workerData.pids.map((pid) => openOr('/proc/' + pid + '/schedstat'))
const samples = workerData.pids.map(() => [])
const wasRunning = workerData.pids.map(() => true) // read the run time at the start
const sample = () => {
  const t = now()
  for (let i = 0; i < stats.length; i++) {
    const stat = readFd(stats[i])
    const running = stat.charAt(stat.lastIndexOf(')') + 2) === 'R'
    const ns = running || wasRunning[i] ? Number(readFd(schedstats[i]).split(' ')[0]) : null
    wasRunning[i] = running
    samples[i].push({ t, running, ns: ns !== null && ns > 0 ? ns : null })
  }
}
sample()
const timer = setInterval(sample, workerData.intervalMs)
parentPort.postMessage('sampling')
parentPort.once('message', () => {
  clearInterval(timer)
  sample()
  for (const fd of [...stats, ...schedstats]) if (fd >= 0) fs.closeSync(fd)
  parentPort.postMessage(samples)
})
`

export interface HostSampler {
  /** Stops sampling; each watched thread's runs since the start. */
  stop(): Promise<ThreadRuns[]>
}

/** Starts sampling `threads` every `intervalMs` in a worker thread; resolves once the first readings are taken. */
export async function startHostSampler(threads: readonly KernelThread[], intervalMs = 1): Promise<HostSampler> {
  // Plain JavaScript: none of the parent's loaders, so it starts at once.
  const worker = new Worker(SAMPLER, { eval: true, execArgv: [], workerData: { pids: threads.map((t) => t.pid), intervalMs } })
  await new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  return {
    stop: async () => {
      const samples = await new Promise<RunSample[][]>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.postMessage('stop')
      })
      await worker.terminate()
      // A thread that exited reads as asleep from then on.
      return threads.map((t, i) => ({ name: t.name, spans: runSpans(samples[i] ?? []) }))
    },
  }
}

/** A load watched against the host's threads: pass `onResponse` to the load, then `finish` once it is done. */
export interface HostWatch {
  readonly onResponse: (latencyMs: number) => void
  finish(): Promise<{ readonly runs: ThreadRuns[]; readonly latency: LatencyAroundHost }>
}

/** The kernel threads named by `prefixes`, said on the console (or that none matched); null when no prefix is given. */
export function hostThreadsFor(prefixes: readonly string[]): KernelThread[] | null {
  if (prefixes.length === 0) return null
  const threads = findKernelThreads(prefixes)
  console.log(`host threads watched: ${threads.map((t) => t.name).join(', ') || `none found for ${prefixes.join(', ')}`}`)
  return threads
}

/** Starts sampling `threads` and recording the time of every response. */
export async function watchHost(threads: readonly KernelThread[]): Promise<HostWatch> {
  const sampler = await startHostSampler(threads)
  const responses: Response[] = []
  return {
    onResponse: (ms) => void responses.push({ end: monotonicMs(), ms }),
    finish: async () => {
      const runs = await sampler.stop()
      return { runs, latency: latencyAroundHost(responses, runs) }
    },
  }
}
