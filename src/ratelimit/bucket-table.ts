// The bucket table with deterministic eviction. A full bucket equals an
// absent one, so it is dropped; Map insertion order is the eviction queue
// (touched keys move to the back), and each apply examines a fixed number of
// the oldest entries. Same operations in the same order give the same table
// on every replica, and keys that stop being used are eventually dropped.
import { isFullAt, type Bucket } from './bucket.js'

export class BucketTable {
  readonly #buckets = new Map<string, Bucket>()
  /**
   * Where the last sweep stopped. A fresh `for...of` per sweep would start at
   * the front of V8's ordered hash table and step over every deleted slot
   * left there by re-queued keys (80% of CPU at 1M keys). Every entry before
   * this iterator's position has been deleted or moved to the back, so its
   * next() is always the oldest live entry, exactly what a fresh iteration
   * would yield first. Replaced when exhausted (a finished Map iterator never
   * yields again, even for keys added later) and after restore().
   */
  #cursor: MapIterator<[string, Bucket]> | undefined

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
    this.#cursor = undefined
  }

  /** Examines up to `count` of the oldest buckets: drops full ones, re-queues the rest. */
  sweep(now: number, count: number): void {
    if (count <= 0 || this.#buckets.size === 0) return
    // Collect first, then put: putting while reading would re-queue an entry
    // ahead of the cursor and could hand it out twice in one sweep.
    const oldest: [string, Bucket][] = []
    const cursor = (this.#cursor ??= this.#buckets.entries())
    while (oldest.length < count) {
      const next = cursor.next()
      if (next.done === true) {
        // Every live entry has been read in this sweep; start afresh next time.
        this.#cursor = undefined
        break
      }
      oldest.push(next.value)
    }
    for (const [key, bucket] of oldest) this.put(key, bucket, now)
  }

  /** Queue order (oldest first). */
  entries(): IterableIterator<[string, Bucket]> {
    return this.#buckets.entries()
  }
}
