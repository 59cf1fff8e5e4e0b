// One probe of `npm run bench:sync`, run as its own process so that a write
// on the calling thread blocks nobody else: makes synced writes of --bytes
// back to back for --seconds, then writes their latencies to --out.
//
//   sync-probe.ts --mode inline|threadpool|store --dir D --seconds S --bytes B --out F
import fs from 'node:fs'
import path from 'node:path'
import { LevelLogStore } from '../src/storage/level-log-store.js'
import { Args } from './lib/args.js'
import { SYNC_MODES, type SyncMode } from './lib/sync-writes.js'

const elapsedMs = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e6

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['mode', 'dir', 'seconds', 'bytes', 'out'])
  const mode = args.string('mode', '') as SyncMode
  if (!SYNC_MODES.includes(mode)) throw new Error(`--mode must be one of ${SYNC_MODES.join(', ')}`)
  const dir = args.string('dir', '')
  const out = args.string('out', '')
  if (dir === '' || out === '') throw new Error('--dir and --out are required')
  const seconds = args.number('seconds', 3)
  const bytes = Math.max(1, Math.round(args.number('bytes', 400)))
  fs.mkdirSync(dir, { recursive: true })
  const latencies: number[] = []
  const until = Date.now() + seconds * 1000
  // O_DSYNC: the write returns once its data is durable, one syscall for write and sync alike.
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_DSYNC
  const payload = Buffer.alloc(bytes, 'x')
  if (mode === 'inline') {
    const fd = fs.openSync(path.join(dir, 'inline.log'), flags)
    while (Date.now() < until) {
      const t = process.hrtime.bigint()
      fs.writeSync(fd, payload)
      latencies.push(elapsedMs(t))
    }
    fs.closeSync(fd)
  } else if (mode === 'threadpool') {
    const fh = await fs.promises.open(path.join(dir, 'threadpool.log'), flags)
    while (Date.now() < until) {
      const t = process.hrtime.bigint()
      await fh.write(payload)
      latencies.push(elapsedMs(t))
    }
    await fh.close()
  } else {
    const store = new LevelLogStore(path.join(dir, 'store'))
    await store.open()
    const data = payload.toString('utf8')
    let index = 0
    while (Date.now() < until) {
      index++
      const t = process.hrtime.bigint()
      await store.save(null, [{ index, term: 1, kind: 'cmd', data }])
      latencies.push(elapsedMs(t))
    }
    await store.close()
  }
  fs.writeFileSync(out, JSON.stringify({ mode, latencies_ms: latencies }))
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
