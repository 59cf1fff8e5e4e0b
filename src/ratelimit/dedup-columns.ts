// Remembered request ids in typed-array columns indexed by slot, instead of
// three objects per id (entry, decision, policy: ~300 B with its strings).
// Key and request id are kept only inside the id string the lookup Map uses
// anyway, and read back from it. Every number is an integer below 2^53
// (Float64 is exact); counts and policy fields fit 32 bits.
import type { Decision } from './decision.js'

export interface DedupEntry {
  readonly key: string
  readonly requestId: string
  /** Effective time of the first apply. */
  readonly stamp: number
  /** The state machine's apply count at the first apply. */
  readonly seq: number
  readonly decision: Decision
}

/** Length-prefixing the key makes the pair unambiguous whatever characters either holds. */
export function idOf(key: string, requestId: string): string {
  return `${key.length}:${key}${requestId}`
}

function splitId(id: string): { key: string; requestId: string } {
  const colon = id.indexOf(':')
  const keyEnd = colon + 1 + Number(id.slice(0, colon))
  return { key: id.slice(colon + 1, keyEnd), requestId: id.slice(keyEnd) }
}

/** Request-id entries in a fixed order (expiry order, oldest first), read by position. */
export interface DedupRows {
  readonly count: number
  entry(i: number): DedupEntry
}

export class DedupColumns {
  readonly ids: (string | undefined)[]
  readonly stamp: Float64Array
  readonly seq: Float64Array
  readonly retryAfterMs: Float64Array
  readonly resetMs: Float64Array
  readonly remaining: Uint32Array
  readonly refill: Uint32Array
  readonly windowMs: Uint32Array
  readonly burst: Uint32Array
  readonly admitted: Uint8Array

  constructor(readonly capacity: number) {
    this.ids = new Array<string | undefined>(capacity).fill(undefined)
    this.stamp = new Float64Array(capacity)
    this.seq = new Float64Array(capacity)
    this.retryAfterMs = new Float64Array(capacity)
    this.resetMs = new Float64Array(capacity)
    this.remaining = new Uint32Array(capacity)
    this.refill = new Uint32Array(capacity)
    this.windowMs = new Uint32Array(capacity)
    this.burst = new Uint32Array(capacity)
    this.admitted = new Uint8Array(capacity)
  }

  write(i: number, e: DedupEntry): void {
    const d = e.decision
    this.ids[i] = idOf(e.key, e.requestId)
    this.stamp[i] = e.stamp
    this.seq[i] = e.seq
    this.retryAfterMs[i] = d.retryAfterMs
    this.resetMs[i] = d.resetMs
    this.remaining[i] = d.remaining
    this.refill[i] = d.policy.refill
    this.windowMs[i] = d.policy.windowMs
    this.burst[i] = d.policy.burst
    this.admitted[i] = d.admitted ? 1 : 0
  }

  id(i: number): string {
    const id = this.ids[i]
    if (id === undefined) throw new RangeError(`request-id slot ${i} is empty`)
    return id
  }

  /** Frees the slot's id string; the numbers are overwritten on reuse. */
  clear(i: number): void {
    this.ids[i] = undefined
  }

  decision(i: number): Decision {
    return {
      admitted: this.admitted[i] === 1,
      remaining: this.remaining[i] ?? 0,
      retryAfterMs: this.retryAfterMs[i] ?? 0,
      resetMs: this.resetMs[i] ?? 0,
      policy: { refill: this.refill[i] ?? 0, windowMs: this.windowMs[i] ?? 0, burst: this.burst[i] ?? 0 },
      duplicate: false,
    }
  }

  entry(i: number): DedupEntry {
    return { ...splitId(this.id(i)), stamp: this.stamp[i] ?? 0, seq: this.seq[i] ?? 0, decision: this.decision(i) }
  }

  /** Copies `count` slots starting at `from` in `src` to slots starting at `to` here. */
  copyFrom(src: DedupColumns, from: number, count: number, to: number): void {
    const end = from + count
    for (let k = 0; k < count; k++) this.ids[to + k] = src.ids[from + k]
    this.stamp.set(src.stamp.subarray(from, end), to)
    this.seq.set(src.seq.subarray(from, end), to)
    this.retryAfterMs.set(src.retryAfterMs.subarray(from, end), to)
    this.resetMs.set(src.resetMs.subarray(from, end), to)
    this.remaining.set(src.remaining.subarray(from, end), to)
    this.refill.set(src.refill.subarray(from, end), to)
    this.windowMs.set(src.windowMs.subarray(from, end), to)
    this.burst.set(src.burst.subarray(from, end), to)
    this.admitted.set(src.admitted.subarray(from, end), to)
  }
}

/** Rows over a plain list of entries (decoded snapshots, tests). */
export function dedupRowsOf(entries: readonly DedupEntry[]): DedupRows {
  return {
    count: entries.length,
    entry(i) {
      const e = entries[i]
      if (e === undefined) throw new RangeError(`request-id row ${i} out of ${entries.length}`)
      return e
    },
  }
}
