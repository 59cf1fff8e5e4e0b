// Bucket rows in queue order (oldest first), read by row number: what
// snapshots and state hashes read. The table hands out a FrozenBuckets view
// (frozen-buckets.ts); BucketColumns is a plain copy, for building an image
// from a list of buckets.
import type { Bucket } from './bucket.js'
import { PackedKeysBuilder, type PackedKeys } from './packed-keys.js'

export interface BucketRows {
  readonly count: number
  key(i: number): string
  level(i: number): number
  stamp(i: number): number
  windowMs(i: number): number
  fullAt(i: number): number
}

/** Rows copied column by column: keys as bytes, values in typed arrays. */
export class BucketColumns implements BucketRows {
  private constructor(
    readonly count: number,
    private readonly keys: PackedKeys,
    private readonly levels: Float64Array,
    private readonly stamps: Float64Array,
    private readonly windows: Uint32Array,
    private readonly fullAts: Float64Array,
  ) {}

  static of(entries: readonly (readonly [string, Bucket])[]): BucketColumns {
    const n = entries.length
    const keys = new PackedKeysBuilder(n)
    const levels = new Float64Array(n)
    const stamps = new Float64Array(n)
    const windows = new Uint32Array(n)
    const fullAts = new Float64Array(n)
    entries.forEach(([key, b], i) => {
      keys.push(key)
      levels[i] = b.level
      stamps[i] = b.stamp
      windows[i] = b.windowMs
      fullAts[i] = b.fullAt
    })
    return new BucketColumns(n, keys.build(), levels, stamps, windows, fullAts)
  }

  key(i: number): string {
    return this.keys.at(i)
  }

  level(i: number): number {
    return this.levels[i] ?? 0
  }

  stamp(i: number): number {
    return this.stamps[i] ?? 0
  }

  windowMs(i: number): number {
    return this.windows[i] ?? 0
  }

  fullAt(i: number): number {
    return this.fullAts[i] ?? 0
  }
}

export function bucketColumnsOf(entries: readonly (readonly [string, Bucket])[]): BucketColumns {
  return BucketColumns.of(entries)
}

export function bucketAt(rows: BucketRows, i: number): Bucket {
  return { level: rows.level(i), stamp: rows.stamp(i), windowMs: rows.windowMs(i), fullAt: rows.fullAt(i) }
}
