// Linux process accounting (/proc) and the benchmark's own child processes:
// each is started on 127.0.0.1 and stopped by its own pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseSwitchCounts, type SwitchCounts } from './stats.js'

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_ROOT = path.resolve(BENCH_DIR, '..')
export const RESULTS_DIR = path.join(BENCH_DIR, 'results')

/** How TypeScript children are run: the same loader as the bench itself (tap's ts-node fork). */
export const TS_LOADER_ARGS: readonly string[] = ['--import', '@isaacs/ts-node-temp-fork-for-pr-2009/import']

let clockTicks: number | undefined
function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/**
 * A /proc/<pid>/stat line split into the pid, the command name (field 2) and
 * the fields after it (`rest[0]` is field 3, so field k is `rest[k - 3]`);
 * null if it has no name. The name may hold spaces and parentheses: it runs
 * to the last ')'.
 */
export function splitProcStat(line: string): { pid: number; name: string; rest: string[] } | null {
  const open = line.indexOf('(')
  const close = line.lastIndexOf(')')
  if (open < 0 || close < open) return null
  return { pid: Number(line.slice(0, open).trim()), name: line.slice(open + 1, close), rest: line.slice(close + 2).split(' ') }
}

/** utime + stime of `pid` in seconds (fields 14 and 15 of /proc/<pid>/stat), or NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = splitProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
    return stat === null ? Number.NaN : (Number(stat.rest[11]) + Number(stat.rest[12])) / clkTck()
  } catch {
    return Number.NaN
  }
}

/**
 * Context switches of every thread of `pid` (the process's own status file
 * counts only its main thread), or null once it is gone. A thread that ends
 * between two readings takes its count with it.
 */
export function switchCounts(pid: number): SwitchCounts | null {
  let voluntary = 0
  let involuntary = 0
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const c = parseSwitchCounts(readOrEmpty(`/proc/${pid}/task/${tid}/status`))
      if (c === null) continue
      voluntary += c.voluntary
      involuntary += c.involuntary
    }
  } catch {
    return null
  }
  return { voluntary, involuntary }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

/** Resident set size of `pid` in MB (10^6 bytes; VmRSS of /proc/<pid>/status), or NaN. */
export function rssMB(pid: number): number {
  return statusMB(pid, 'VmRSS')
}

/** The highest RSS the process has had so far (catches short peaks, e.g. while a snapshot is encoded). */
export function peakRssMB(pid: number): number {
  return statusMB(pid, 'VmHWM')
}

function statusMB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m?.[1] === undefined ? Number.NaN : (Number(m[1]) * 1024) / 1e6
  } catch {
    return Number.NaN
  }
}

export interface MachineInfo {
  cpus: number
  cpu_model: string
  mem_gib: number
  node: string
  platform: string
  kernel: string
  /** 1, 5 and 15 minute load averages when the bench started and ended. */
  load_start: number[]
  load_end?: number[]
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    mem_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    load_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

export function loadAvg(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export interface Child {
  readonly name: string
  readonly pid: number
  readonly logFile: string
  readonly exited: Promise<void>
  isRunning(): boolean
  /** SIGTERM this pid, SIGKILL it after `timeoutMs`; resolves once it is gone. */
  stop(timeoutMs?: number): Promise<void>
}

const children = new Set<Child>()
let hookInstalled = false

/** Spawn `cmd args` with output to a log file; killed by pid if the bench exits first. */
export async function spawnChild(
  name: string,
  cmd: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; logDir: string; cwd?: string },
): Promise<Child> {
  fs.mkdirSync(opts.logDir, { recursive: true })
  const logFile = path.join(opts.logDir, `${name}.log`)
  const fd = fs.openSync(logFile, 'a')
  let proc: ChildProcess
  try {
    proc = spawn(cmd, [...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', fd, fd],
    })
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve)
      proc.once('error', reject)
    })
  } finally {
    fs.closeSync(fd)
  }
  const pid = proc.pid
  if (pid === undefined) throw new Error(`${name}: spawn gave no pid`)
  let running = true
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      running = false
      children.delete(child)
      resolve()
    })
  })
  const child: Child = {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => running,
    async stop(timeoutMs = 5000) {
      if (!running) return
      signal(pid, 'SIGTERM')
      const timer = setTimeout(() => signal(pid, 'SIGKILL'), timeoutMs)
      await exited
      clearTimeout(timer)
    },
  }
  children.add(child)
  if (!hookInstalled) {
    hookInstalled = true
    process.on('exit', () => {
      for (const c of children) signal(c.pid, 'SIGKILL')
    })
  }
  return child
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

/** Poll `url` until it answers 2xx, the child dies, or `timeoutMs` passes. */
export async function waitHttpOk(url: string, child: Child | null, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child !== null && !child.isRunning()) {
      throw new Error(`${child.name} exited before ${url} answered; log: ${child.logFile}\n${tail(child.logFile)}`)
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.body?.cancel()
      if (res.ok) return
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms`)
    await sleep(100)
  }
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/** Whether an executable named `cmd` is on PATH. */
export function onPath(cmd: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const p = path.join(dir, cmd)
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return p
    } catch {
      // keep looking
    }
  }
  return null
}

export function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`)
  fs.renameSync(tmp, file)
}
