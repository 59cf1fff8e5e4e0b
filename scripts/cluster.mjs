#!/usr/bin/env node
// Start a local cluster (node-1..N) as child processes of this script, with
// the environment from cluster-env.mjs. `npm run cluster` builds first and
// then runs this. Ctrl-C (or SIGTERM) stops every node gracefully.
//
// Each child runs in its own process group, so a Ctrl-C in the terminal
// reaches only this script; it then sends SIGTERM to each child by its pid,
// waits, and sends SIGKILL to any child still running after GRACE_MS.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { clusterEnv, HTTP_PORT_BASE, NODE_RUNTIME_ARGS, NODE_RUNTIME_ENV, RAFT_PORT_BASE, SUPPORTED_SIZES } from './cluster-env.mjs'
import { busyPorts } from './ports.mjs'

const GRACE_MS = 5000
const READY_POLL_MS = 500
const READY_WARN_MS = 60_000

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const USAGE = `usage: node scripts/cluster.mjs [options]   (npm run cluster -- [options])

  --nodes N          cluster size: ${SUPPORTED_SIZES.join(', ')} (default 3)
  --data DIR         parent of the per-node data dirs (default <repo>/data)
  --fresh            delete DIR/node-* before starting
  --env KEY=VALUE    set a variable on every node (repeatable), e.g. --env RATE_LIMIT=100
  --http-base N      node-K serves HTTP on N+K (default ${HTTP_PORT_BASE})
  --raft-base N      node-K serves Raft on N+K (default ${RAFT_PORT_BASE})
  --entry FILE       script to run for each node (default <repo>/dist/main.js)
  -h, --help         show this help`

const useColor = process.stdout.isTTY === true && !('NO_COLOR' in process.env)
const COLORS = [36, 33, 35, 32, 34]
function paint(text, code) {
  return useColor ? `\u001b[${code}m${text}\u001b[0m` : text
}
function say(msg) {
  process.stdout.write(`${paint('[cluster]', 1)} ${msg}\n`)
}
function fail(msg) {
  process.stderr.write(`[cluster] error: ${msg}\n`)
  process.exit(2)
}

function parseCli(argv) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        nodes: { type: 'string', default: '3' },
        data: { type: 'string' },
        fresh: { type: 'boolean', default: false },
        env: { type: 'string', multiple: true, default: [] },
        'http-base': { type: 'string', default: String(HTTP_PORT_BASE) },
        'raft-base': { type: 'string', default: String(RAFT_PORT_BASE) },
        entry: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    })
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
  }
  const v = parsed.values
  if (v.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const nodes = Number(v.nodes)
  if (!SUPPORTED_SIZES.includes(nodes)) fail(`--nodes must be one of ${SUPPORTED_SIZES.join(', ')}, got ${v.nodes}`)
  const port = (flag) => {
    const n = Number(v[flag])
    if (!Number.isInteger(n) || n < 1 || n + nodes > 65535) fail(`--${flag} must be a port number, got ${v[flag]}`)
    return n
  }
  const overrides = {}
  for (const kv of v.env) {
    const eq = kv.indexOf('=')
    if (eq < 1) fail(`--env expects KEY=VALUE, got ${JSON.stringify(kv)}`)
    overrides[kv.slice(0, eq)] = kv.slice(eq + 1)
  }
  return {
    nodes,
    dataRoot: path.resolve(v.data ?? path.join(repoRoot, 'data')),
    fresh: v.fresh,
    overrides,
    httpBase: port('http-base'),
    raftBase: port('raft-base'),
    entry: path.resolve(v.entry ?? path.join(repoRoot, 'dist', 'main.js')),
  }
}

/** Delete only DIR/node-* so a mistyped --data never wipes anything else. */
function wipeNodeDirs(dataRoot) {
  if (!fs.existsSync(dataRoot)) return
  for (const entry of fs.readdirSync(dataRoot)) {
    if (/^node-[0-9]+$/.test(entry)) {
      fs.rmSync(path.join(dataRoot, entry), { recursive: true, force: true })
      say(`removed ${path.join(dataRoot, entry)}`)
    }
  }
}

function pipeLines(stream, out, prefix) {
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity })
  rl.on('line', (line) => out.write(`${prefix}${line}\n`))
}

function printTryLines(envs) {
  const [first, second] = Object.values(envs)
  const u1 = `http://127.0.0.1:${first.SERVER_PORT}`
  const u2 = `http://127.0.0.1:${(second ?? first).SERVER_PORT}`
  say('try:')
  for (const line of [
    `curl -s -X POST '${u1}/rate/increment?client_id=alice'`,
    `curl -s -X POST '${u2}/rate/increment?client_id=alice&cost=3'`,
    `curl -s '${u2}/rate/check?client_id=alice'`,
    `curl -s ${u1}/cluster/status`,
    `curl -s ${u1}/metrics | grep raft_`,
  ]) {
    process.stdout.write(`    ${line}\n`)
  }
}

async function isReady(env) {
  try {
    const res = await fetch(`http://127.0.0.1:${env.SERVER_PORT}/readyz`, { signal: AbortSignal.timeout(1000) })
    await res.body?.cancel()
    return res.ok
  } catch {
    return false
  }
}

async function main() {
  const opts = parseCli(process.argv.slice(2))
  if (!fs.existsSync(opts.entry)) {
    fail(`${opts.entry} not found: run \`npm run build\` first (or use \`npm run cluster\`, which builds)`)
  }
  const envs = clusterEnv({
    nodes: opts.nodes,
    dataRoot: opts.dataRoot,
    httpBase: opts.httpBase,
    raftBase: opts.raftBase,
    overrides: opts.overrides,
  })
  const wanted = Object.values(envs).flatMap((e) => [Number(e.SERVER_PORT), Number(e.RAFT_PORT)])
  const busy = await busyPorts(wanted)
  if (busy.length > 0) {
    fail(`port(s) ${busy.join(', ')} already in use on 127.0.0.1: is a cluster already running?`)
  }
  if (opts.fresh) wipeNodeDirs(opts.dataRoot)
  fs.mkdirSync(opts.dataRoot, { recursive: true })

  const shownEntry = opts.entry.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, opts.entry) : opts.entry
  say(`starting ${opts.nodes} node(s) from ${shownEntry}, data in ${opts.dataRoot}`)
  const width = Math.max(...Object.keys(envs).map((n) => n.length))

  /** @type {Map<string, { pid: number, exit: { code: number | null, signal: string | null } | null, done: Promise<void> }>} */
  const nodes = new Map()
  let stopping = false
  let forced = false

  const running = () => [...nodes.entries()].filter(([, n]) => n.exit === null)
  const signalNode = (name, node, signal) => {
    try {
      process.kill(node.pid, signal)
    } catch (err) {
      if (err?.code !== 'ESRCH') say(`could not send ${signal} to ${name} (pid ${node.pid}): ${err?.message ?? err}`)
    }
  }

  let i = 0
  for (const [name, nodeEnv] of Object.entries(envs)) {
    const color = COLORS[i++ % COLORS.length] ?? 36
    const prefix = `${paint(`[${name.padEnd(width)}]`, color)} `
    const child = spawn(process.execPath, [...NODE_RUNTIME_ARGS, opts.entry], {
      cwd: repoRoot,
      env: { ...NODE_RUNTIME_ENV, ...process.env, ...nodeEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: the terminal's Ctrl-C reaches only us
    })
    child.on('error', (err) => say(`${name}: ${err.message}`))
    if (child.pid === undefined) continue // spawn failed; 'error' says why
    pipeLines(child.stdout, process.stdout, prefix)
    pipeLines(child.stderr, process.stderr, prefix)
    const node = { pid: child.pid, exit: null, done: Promise.resolve() }
    node.done = new Promise((resolve) => {
      // 'close' rather than 'exit': the node's last output lines come first.
      child.once('close', (code, signal) => {
        node.exit = { code, signal }
        const how = signal ? `signal ${signal}` : `code ${code}`
        if (stopping) {
          say(`${name} (pid ${node.pid}) stopped: ${how}`)
        } else {
          const left = running().length
          say(`${name} (pid ${node.pid}) exited unexpectedly: ${how}; ${left} of ${nodes.size} nodes still running`)
          if (left === 0) {
            say('no node left running')
            process.exit(1)
          }
        }
        resolve()
      })
    })
    nodes.set(name, node)
    say(`${name} pid ${node.pid}: http://127.0.0.1:${nodeEnv.SERVER_PORT} raft :${nodeEnv.RAFT_PORT}`)
  }
  if (nodes.size === 0) fail('no node could be started')

  // Last resort if we leave without a clean stop (uncaught error, process.exit).
  process.on('exit', () => {
    for (const [name, node] of running()) signalNode(name, node, 'SIGKILL')
  })

  const stop = async (why) => {
    if (stopping) {
      say(`${why} again: killing the remaining nodes now`)
      forced = true
      for (const [name, node] of running()) signalNode(name, node, 'SIGKILL')
      return
    }
    stopping = true
    say(`${why}: sending SIGTERM to ${running().length} node(s)`)
    for (const [name, node] of running()) signalNode(name, node, 'SIGTERM')
    const timer = setTimeout(() => {
      for (const [name, node] of running()) {
        say(`${name} (pid ${node.pid}) still running after ${GRACE_MS} ms: SIGKILL`)
        forced = true
        signalNode(name, node, 'SIGKILL')
      }
    }, GRACE_MS)
    await Promise.all([...nodes.values()].map((n) => n.done))
    clearTimeout(timer)
    const clean = !forced && [...nodes.values()].every((n) => n.exit?.code === 0 || n.exit?.signal === 'SIGTERM')
    say(clean ? 'all nodes stopped' : 'all nodes stopped (not all cleanly)')
    process.exit(clean ? 0 : 1)
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => void stop(sig))

  printTryLines(envs)

  // Tell the user when the cluster is usable; never blocks shutdown.
  const started = Date.now()
  let warned = false
  while (!stopping) {
    const pending = []
    for (const [name] of running()) {
      const env = envs[name]
      if (env && !(await isReady(env))) pending.push(name)
    }
    if (stopping) break
    if (pending.length === 0 && running().length > 0) {
      say(`ready: ${running().length} node(s) answer /readyz (Ctrl-C stops the cluster)`)
      break
    }
    if (!warned && Date.now() - started > READY_WARN_MS) {
      warned = true
      say(`still not ready after ${READY_WARN_MS / 1000} s: ${pending.join(', ')}`)
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS))
  }
}

main().catch((err) => {
  process.stderr.write(`[cluster] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
