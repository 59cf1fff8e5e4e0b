// The bucket table with deterministic eviction. A full bucket equals an
// absent one, so it is dropped; Map insertion order is the eviction queue
// (touched keys move to the back), and each apply examines a fixed number of
// the oldest entries. Same operations in the same order give the same table
// on every replica, and keys that stop being used are eventually dropped.
import { isFullAt, type Bucket } from './bucket.js'

export class BucketTable {
  readonly #buckets = new Map<string, Bucket>()

  get size(): number {
    return this.#buckets.size
  }

  get(key: string): Bucket | undefined {
    return this.#buckets.get(key)
  }

  /** Stores `bucket` at the back of the queue, or drops the key if it is full at `now`. */
  put(key: string, bucket: Bucket, now: number): void {
    this.#buckets.delete(key)
    if (!isFullAt(bucket, now)) this.#buckets.set(key, bucket)
  }

  /** Appends exactly as given; only for rebuilding a saved table in its saved order. */
  restore(key: string, bucket: Bucket): void {
    if (this.#buckets.has(key)) throw new Error(`duplicate bucket key in restore: ${key}`)
    this.#buckets.set(key, bucket)
  }

  /** Examines up to `count` of the oldest buckets: drops full ones, re-queues the rest. */
  sweep(now: number, count: number): void {
    const oldest: [string, Bucket][] = []
    for (const entry of this.#buckets) {
      if (oldest.length >= count) break
      oldest.push(entry)
    }
    for (const [key, bucket] of oldest) this.put(key, bucket, now)
  }

  /** Queue order (oldest first). */
  entries(): IterableIterator<[string, Bucket]> {
    return this.#buckets.entries()
  }
}
