// A fixed, seeded command stream that exercises everything the bucket table
// stores: thousands of keys (the packed slab grows), buckets refilling and
// being evicted (slots are reused), a policy whose window changes (levels are
// rescaled), clocks going backwards, and request ids.
import type { IncrementCommand } from '../../src/ratelimit/command.js'
import type { Policy } from '../../src/ratelimit/policy.js'
import { mulberry32 } from './prng.js'

const POLICIES: readonly Policy[] = [
  { refill: 2, windowMs: 1_000, burst: 4 },
  { refill: 2, windowMs: 3_000, burst: 4 },
  { refill: 1, windowMs: 86_400_000, burst: 100_000 },
]

export function workload(seed: number, count: number): IncrementCommand[] {
  const next = mulberry32(seed)
  const rnd = (n: number): number => Math.floor(next() * n)
  const out: IncrementCommand[] = []
  let stamp = 1_700_000_000_000
  for (let i = 0; i < count; i++) {
    // Mostly small steps, sometimes a leader behind, sometimes a long pause that lets buckets refill.
    const jump = rnd(500) === 0 ? 60_000 : rnd(4) === 0 ? rnd(900) : rnd(20)
    stamp = rnd(30) === 0 ? stamp - rnd(3_000) : stamp + jump
    // day-* buckets take a day to refill, so the table grows to thousands of entries.
    const kind = rnd(6)
    const key = kind === 0 ? `hot-${rnd(10)}` : kind < 3 ? `day-${rnd(4_000)}` : `key-${rnd(3_000)}`
    const policy = POLICIES[kind > 0 && kind < 3 ? 2 : rnd(10) === 0 ? 1 : 0] as Policy
    const cmd: IncrementCommand = { key, cost: 1 + rnd(2), stamp, policy }
    out.push(rnd(4) === 0 ? { ...cmd, requestId: `r${rnd(400)}` } : cmd)
  }
  return out
}
