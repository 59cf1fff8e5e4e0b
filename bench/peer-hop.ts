// `npm run bench:peer-hop`: CPU the sending process spends on one peer
// exchange (a message batch out, a small answer back), and the exchange's
// round trip, over the HTTP request
// undici makes today and over a length-prefixed frame on a plain TCP socket,
// the alternative bench/RESULTS.md weighs. The receiver runs in its
// own process, as a peer does. With --gap-ms the sender waits between
// exchanges, as a leader does between event-loop turns on a shared host.
// Writes bench/results/peer-hop.json.
//
//   npm run bench:peer-hop -- [--exchanges 5000] [--bytes 2000] [--gap-ms 0,1]
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { Pool } from 'undici'
import { EMPTY_FRAME, encodeFrame } from '../src/transport/frame-codec.js'
import { Args } from './lib/args.js'
import { loadAvg, machineInfo, RESULTS_DIR, sleep, writeJson } from './lib/procs.js'
import { percentile, round3, Samples } from './lib/stats.js'

// Receivers: answer each request (or frame) with a few bytes, like a follower's append response.
const HTTP_RECEIVER = `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')) })
  .listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n') })`
const FRAME_RECEIVER = `require('node:net').createServer((s) => { s.setNoDelay(true); let buf = Buffer.alloc(0)
  s.on('data', (d) => { buf = Buffer.concat([buf, d]); while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    buf = buf.subarray(4 + buf.readUInt32BE(0)); s.write(Buffer.from([0, 0, 0, 2, 111, 107])) } }) })
  .listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n') })`

// One long-lived request: its body carries length-prefixed frames, and each
// frame's answer comes back as a frame on the response body.
const STREAM_RECEIVER = `require('node:http').createServer((req, res) => { res.writeHead(200); res.flushHeaders(); let buf = Buffer.alloc(0)
  req.on('data', (d) => { buf = Buffer.concat([buf, d]); while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const n = buf.readUInt32BE(0); buf = buf.subarray(4 + n); if (n > 0) res.write(Buffer.from([0, 0, 0, 2, 111, 107])) } }); req.on('end', () => res.end()) })
  .listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n') })`

async function startReceiver(code: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
    child.once('exit', (c) => reject(new Error(`receiver exited with ${c}`)))
  })
  return { port, child }
}

/** One way of sending a batch and awaiting its answer. */
interface Exchange {
  readonly run: () => Promise<void>
  readonly close: () => Promise<void>
}

interface Measured {
  /** Microseconds of this process's CPU per exchange. */
  readonly cpuUs: number
  /** Round trip of one exchange, from the write to the answer, in milliseconds. */
  readonly p50Ms: number
  readonly p99Ms: number
}

async function measure(exchanges: number, gapMs: number, exchange: () => Promise<void>): Promise<Measured> {
  for (let i = 0; i < 200; i++) await exchange() // warm-up: JIT, connection
  const trips = new Samples()
  const start = process.cpuUsage()
  for (let i = 0; i < exchanges; i++) {
    if (gapMs > 0) await sleep(gapMs)
    const sent = performance.now()
    await exchange()
    trips.add(performance.now() - sent)
  }
  const used = process.cpuUsage(start)
  const sorted = trips.sorted()
  return { cpuUs: Math.round((used.user + used.system) / exchanges), p50Ms: round3(percentile(sorted, 50)), p99Ms: round3(percentile(sorted, 99)) }
}

async function undiciExchange(port: number, body: string): Promise<Exchange> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 })
  const headers = { 'content-type': 'text/plain', 'x-cluster-secret': 'bench', 'x-raft-from': 'node-1' }
  return {
    run: async () => {
      const res = await pool.request({ method: 'POST', path: '/raft/messages', headers, body })
      await res.body.text()
    },
    close: () => pool.close(),
  }
}

async function frameExchange(port: number, body: string): Promise<Exchange> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise((r) => socket.once('connect', r))
  socket.setNoDelay(true)
  const frame = encodeFrame(body)
  let answered: (() => void) | null = null
  socket.on('data', () => answered?.())
  return {
    run: () => new Promise<void>((resolve) => {
      answered = resolve
      socket.write(frame)
    }),
    close: async () => void socket.destroy(),
  }
}

async function streamExchange(port: number, body: string): Promise<Exchange> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1, bodyTimeout: 0 })
  const stream = new PassThrough()
  // undici sends the request head with the body's first chunk: an empty frame opens the stream.
  stream.write(EMPTY_FRAME)
  const res = await pool.request({ method: 'POST', path: '/raft/stream', headers: { 'content-type': 'application/octet-stream' }, body: stream })
  let answered: (() => void) | null = null
  res.body.on('data', () => answered?.())
  const frame = encodeFrame(body)
  return {
    run: () => new Promise<void>((resolve) => {
      answered = resolve
      stream.write(frame)
    }),
    close: async () => {
      stream.end()
      await pool.destroy()
    },
  }
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['exchanges', 'bytes', 'gap-ms', 'out'])
  const exchanges = args.number('exchanges', 5000)
  const body = 'x'.repeat(args.number('bytes', 2000))
  const gaps = args.list('gap-ms', ['0', '1']).map(Number)
  const out = path.resolve(args.string('out', path.join(RESULTS_DIR, 'peer-hop.json')))
  const http = await startReceiver(HTTP_RECEIVER)
  const framed = await startReceiver(FRAME_RECEIVER)
  const streamed = await startReceiver(STREAM_RECEIVER)
  const runs: { transport: string; gap_ms: number; cpu_us_per_exchange: number; p50_ms: number; p99_ms: number }[] = []
  try {
    for (const gap of gaps) {
      for (const [transport, open] of [['undici-http', () => undiciExchange(http.port, body)], ['tcp-frame', () => frameExchange(framed.port, body)], ['undici-stream', () => streamExchange(streamed.port, body)]] as const) {
        const ex = await open()
        const m = await measure(exchanges, gap, ex.run)
        await ex.close()
        runs.push({ transport, gap_ms: gap, cpu_us_per_exchange: m.cpuUs, p50_ms: m.p50Ms, p99_ms: m.p99Ms })
        console.log(`${transport.padEnd(14)} gap ${gap} ms: ${m.cpuUs} µs of sender CPU per exchange, round trip p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms`)
      }
    }
  } finally {
    http.child.kill()
    framed.child.kill()
    streamed.child.kill()
  }
  const ratios = gaps.map((gap) => {
    const cost = (t: string): number => runs.find((r) => r.transport === t && r.gap_ms === gap)?.cpu_us_per_exchange ?? NaN
    const ratio = (t: string): number => Math.round((100 * cost('undici-http')) / cost(t)) / 100
    return { gap_ms: gap, undici_over_frame: ratio('tcp-frame'), undici_over_stream: ratio('undici-stream') }
  })
  for (const r of ratios) {
    console.log(`gap ${r.gap_ms} ms: an undici request costs ${r.undici_over_frame}x a TCP frame, ${r.undici_over_stream}x a frame on a streamed request`)
  }
  writeJson(out, { machine: machineInfo(), load_avg: loadAvg(), exchanges, bytes: body.length, runs, ratios })
  console.log(`wrote ${path.relative(process.cwd(), out)}`)
}

await main()
