// A replica-comparison hash over the logical state. Tables are sorted by key
// so the hash states *what* is held; every string is length-prefixed and every
// number delimited so no two different states feed the same byte stream.
import { Fnv1a64 } from './fnv1a64.js'
import type { StateImage } from './snapshot.js'

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function hashState(img: StateImage): string {
  const h = new Fnv1a64()
  const str = (s: string): void => void h.string(`${s.length}:`).string(s)
  const num = (n: number): void => void h.string(`${n};`)

  num(img.lastStamp)
  num(img.seq)
  const cols = img.buckets
  const keys = Array.from({ length: cols.count }, (_, i) => cols.key(i))
  const byKey = Array.from({ length: cols.count }, (_, i) => i).sort((a, b) => byCodeUnits(keys[a] ?? '', keys[b] ?? ''))
  num(cols.count)
  for (const i of byKey) {
    str(keys[i] ?? '')
    num(cols.level(i))
    num(cols.stamp(i))
    num(cols.windowMs(i))
    num(cols.fullAt(i))
  }
  const dedup = Array.from({ length: img.dedup.count }, (_, i) => img.dedup.entry(i)).sort((a, b) => byCodeUnits(a.key, b.key) || byCodeUnits(a.requestId, b.requestId))
  num(dedup.length)
  for (const e of dedup) {
    const d = e.decision
    str(e.key)
    str(e.requestId)
    num(e.stamp)
    num(e.seq)
    num(d.admitted ? 1 : 0)
    num(d.remaining)
    num(d.retryAfterMs)
    num(d.resetMs)
    num(d.policy.refill)
    num(d.policy.windowMs)
    num(d.policy.burst)
  }
  return h.hex()
}
