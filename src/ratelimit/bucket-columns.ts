// A dense copy of the bucket table in queue order (oldest first), column by
// column: what snapshots and state hashes read. A million buckets copy in one
// pass into five arrays, instead of a million [key, Bucket] pairs of objects;
// the keys stay bytes until a row is encoded.
import type { Bucket } from './bucket.js'
import { PackedKeysBuilder, type PackedKeys } from './packed-keys.js'

export interface BucketColumns {
  readonly count: number
  readonly keys: PackedKeys
  readonly level: Float64Array
  readonly stamp: Float64Array
  readonly windowMs: Uint32Array
  readonly fullAt: Float64Array
}

/** Fills the value columns row by row; `push` must be called exactly `count` times. */
export class BucketColumnsBuilder {
  #rows = 0
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

  push(level: number, stamp: number, windowMs: number, fullAt: number): void {
    const i = this.#rows++
    if (i >= this.count) throw new Error(`more than ${this.count} bucket rows`)
    this.#level[i] = level
    this.#stamp[i] = stamp
    this.#windowMs[i] = windowMs
    this.#fullAt[i] = fullAt
  }

  /** The columns, with `keys` in the same row order. */
  build(keys: PackedKeys): BucketColumns {
    if (this.#rows !== this.count || keys.count !== this.count) {
      throw new Error(`expected ${this.count} bucket rows, got ${this.#rows} rows and ${keys.count} keys`)
    }
    return { count: this.count, keys, level: this.#level, stamp: this.#stamp, windowMs: this.#windowMs, fullAt: this.#fullAt }
  }
}

export function bucketColumnsOf(entries: readonly (readonly [string, Bucket])[]): BucketColumns {
  const b = new BucketColumnsBuilder(entries.length)
  const keys = new PackedKeysBuilder(entries.length)
  for (const [key, x] of entries) {
    keys.push(key)
    b.push(x.level, x.stamp, x.windowMs, x.fullAt)
  }
  return b.build(keys.build())
}

export function bucketAt(cols: BucketColumns, i: number): Bucket {
  return { level: cols.level[i] ?? 0, stamp: cols.stamp[i] ?? 0, windowMs: cols.windowMs[i] ?? 0, fullAt: cols.fullAt[i] ?? 0 }
}

export function keyAt(cols: BucketColumns, i: number): string {
  return cols.keys.at(i)
}
