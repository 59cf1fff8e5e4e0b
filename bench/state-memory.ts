// `npm run bench:state-memory`: bytes the state machine holds per bucket, and
// how long snapshot, restore and sliced restore of that state take, in one
// process without a cluster (fast to rerun while changing the bucket layout).
//
//   npm run bench:state-memory -- [--ids 1000000]
import { Args } from './lib/args.js'
import { RateLimitStateMachine } from '../src/ratelimit/index.js'

const POLICY = { refill: 1, windowMs: 86_400_000, burst: 100_000 }
const T0 = 1_700_000_000_000

function heldBytes(): number {
  globalThis.gc?.()
  globalThis.gc?.()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['ids'])
  const ids = args.number('ids', 1_000_000)
  if (globalThis.gc === undefined) throw new Error('run with node --expose-gc')
  // Keys are built first and kept alive, so the measurement counts only the state's own share of them.
  const keys = Array.from({ length: ids }, (_, i) => `k-${i}`)
  const base = heldBytes()
  const m = new RateLimitStateMachine()
  let t = performance.now()
  for (let i = 0; i < ids; i++) m.apply({ key: keys[i] as string, cost: 1, stamp: T0 + i, policy: POLICY })
  const applyMs = performance.now() - t
  const perBucket = (heldBytes() - base) / ids
  // `keys` is read again here so that it stays alive through the measurement
  // (the table keeps key bytes, not these strings; were they collected, the
  // difference would come out too small).
  console.log(`${keys.length} buckets: ${perBucket.toFixed(1)} B per bucket held (the caller's key strings excluded), ${((applyMs * 1000) / ids).toFixed(2)} µs per apply`)

  t = performance.now()
  const image = m.snapshot()
  console.log(`snapshot(): ${(performance.now() - t).toFixed(0)} ms, ${(image.length / 1e6).toFixed(1)} MB`)
  t = performance.now()
  RateLimitStateMachine.restore(image)
  console.log(`restore(): ${(performance.now() - t).toFixed(0)} ms in one turn`)
  await measureSliced(image)
}

async function measureSliced(image: string): Promise<void> {
  let longest = 0
  let last = performance.now()
  const t = performance.now()
  await RateLimitStateMachine.restoreInSlices(image, async () => {
    await new Promise<void>((resolve) => setImmediate(resolve))
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  })
  longest = Math.max(longest, performance.now() - last)
  console.log(`restoreInSlices(): ${(performance.now() - t).toFixed(0)} ms in all, longest turn ${longest.toFixed(0)} ms`)
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
