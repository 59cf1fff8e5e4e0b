// Bucket fields in typed-array columns indexed by slot, instead of one object
// per bucket. A Bucket object costs about 110 B (header plus boxed heap
// numbers: stamps and levels exceed the small-integer range); a slot costs
// 28 B. Every value is an integer below 2^53 (see policy.ts), so Float64 holds
// it exactly; windowMs <= 86,400,000 fits 32 bits. Slots are handed out by
// the table's KeyQueue; nothing observable depends on which slot a bucket gets.
import type { Bucket } from './bucket.js'

const INITIAL_CAPACITY = 1024

export class BucketSlab {
  #level = new Float64Array(INITIAL_CAPACITY)
  #stamp = new Float64Array(INITIAL_CAPACITY)
  #fullAt = new Float64Array(INITIAL_CAPACITY)
  #windowMs = new Uint32Array(INITIAL_CAPACITY)

  /** Slots the columns can hold before they grow. */
  get capacity(): number {
    return this.#level.length
  }

  write(slot: number, bucket: Bucket): void {
    if (slot >= this.capacity) this.#grow(slot + 1)
    this.#level[slot] = bucket.level
    this.#stamp[slot] = bucket.stamp
    this.#fullAt[slot] = bucket.fullAt
    this.#windowMs[slot] = bucket.windowMs
  }

  read(slot: number): Bucket {
    return { level: this.level(slot), stamp: this.stamp(slot), windowMs: this.windowMs(slot), fullAt: this.fullAt(slot) }
  }

  level(slot: number): number {
    return this.#level[slot] ?? 0
  }

  stamp(slot: number): number {
    return this.#stamp[slot] ?? 0
  }

  fullAt(slot: number): number {
    return this.#fullAt[slot] ?? 0
  }

  windowMs(slot: number): number {
    return this.#windowMs[slot] ?? 0
  }

  /** Doubling keeps the copying amortized O(1) per bucket. */
  #grow(atLeast: number): void {
    let size = this.capacity * 2
    while (size < atLeast) size *= 2
    this.#level = grown(this.#level, new Float64Array(size))
    this.#stamp = grown(this.#stamp, new Float64Array(size))
    this.#fullAt = grown(this.#fullAt, new Float64Array(size))
    this.#windowMs = grown(this.#windowMs, new Uint32Array(size))
  }
}

function grown<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from)
  return to
}
