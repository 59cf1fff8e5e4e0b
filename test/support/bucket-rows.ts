// BucketRows over a plain list of buckets, for building an image from a reference table in tests.
import type { Bucket } from '../../src/ratelimit/bucket.js'
import type { BucketRows } from '../../src/ratelimit/bucket-rows.js'

export function bucketRowsOf(entries: readonly (readonly [string, Bucket])[]): BucketRows {
  const at = (i: number): readonly [string, Bucket] => {
    const e = entries[i]
    if (e === undefined) throw new RangeError(`bucket row ${i} out of ${entries.length}`)
    return e
  }
  return {
    count: entries.length,
    key: (i) => at(i)[0],
    level: (i) => at(i)[1].level,
    stamp: (i) => at(i)[1].stamp,
    windowMs: (i) => at(i)[1].windowMs,
    fullAt: (i) => at(i)[1].fullAt,
  }
}

export function bucketAt(rows: BucketRows, i: number): Bucket {
  return { level: rows.level(i), stamp: rows.stamp(i), windowMs: rows.windowMs(i), fullAt: rows.fullAt(i) }
}
