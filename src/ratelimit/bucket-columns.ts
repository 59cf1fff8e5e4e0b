// A dense copy of the bucket table in queue order (oldest first), column by
// column: what snapshots and state hashes read. A million buckets copy in one
// pass into five arrays, instead of a million [key, Bucket] pairs of objects.
import type { Bucket } from './bucket.js'

export interface BucketColumns {
  readonly count: number
  readonly keys: readonly string[]
  readonly level: Float64Array
  readonly stamp: Float64Array
  readonly windowMs: Uint32Array
  readonly fullAt: Float64Array
}

/** Fills columns row by row; `push` must be called exactly `count` times. */
export class BucketColumnsBuilder {
  readonly #keys: string[] = []
  readonly #level: Float64Array
  readonly #stamp: Float64Array
  readonly #windowMs: Uint32Array
  readonly #fullAt: Float64Array

  constructor(readonly count: number) {
    this.#level = new Float64Array(count)
    this.#stamp = new Float64Array(count)
    this.#windowMs = new Uint32Array(count)
    this.#fullAt = new Float64Array(count)
  }

  push(key: string, level: number, stamp: number, windowMs: number, fullAt: number): void {
    const i = this.#keys.length
    if (i >= this.count) throw new Error(`more than ${this.count} bucket rows`)
    this.#keys.push(key)
    this.#level[i] = level
    this.#stamp[i] = stamp
    this.#windowMs[i] = windowMs
    this.#fullAt[i] = fullAt
  }

  build(): BucketColumns {
    if (this.#keys.length !== this.count) throw new Error(`expected ${this.count} bucket rows, got ${this.#keys.length}`)
    return { count: this.count, keys: this.#keys, level: this.#level, stamp: this.#stamp, windowMs: this.#windowMs, fullAt: this.#fullAt }
  }
}

export function bucketColumnsOf(entries: readonly (readonly [string, Bucket])[]): BucketColumns {
  const b = new BucketColumnsBuilder(entries.length)
  for (const [key, x] of entries) b.push(key, x.level, x.stamp, x.windowMs, x.fullAt)
  return b.build()
}

export function bucketAt(cols: BucketColumns, i: number): Bucket {
  return { level: cols.level[i] ?? 0, stamp: cols.stamp[i] ?? 0, windowMs: cols.windowMs[i] ?? 0, fullAt: cols.fullAt[i] ?? 0 }
}

export function keyAt(cols: BucketColumns, i: number): string {
  const key = cols.keys[i]
  if (key === undefined) throw new RangeError(`bucket row ${i} out of ${cols.count}`)
  return key
}
