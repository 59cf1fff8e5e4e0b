// The bucket table with deterministic eviction. A full bucket equals an
// absent one, so it is dropped; Map insertion order is the eviction queue
// (touched keys move to the back), and each apply examines a fixed number of
// the oldest entries. Same operations in the same order give the same table
// on every replica, and keys that stop being used are eventually dropped.
// The Map holds only key -> slot (a small integer, stored unboxed); the
// bucket fields live in a BucketSlab, so a bucket costs no object of its own.
import { type Bucket } from './bucket.js'
import { BucketColumnsBuilder, type BucketColumns } from './bucket-columns.js'
import { BucketSlab } from './bucket-slab.js'

export class BucketTable {
  readonly #slots = new Map<string, number>()
  readonly #slab = new BucketSlab()
  /**
   * Where the last sweep stopped. A fresh `for...of` per sweep would start at
   * the front of V8's ordered hash table and step over every deleted slot
   * left there by re-queued keys (80% of CPU at 1M keys). Every entry before
   * this iterator's position has been deleted or moved to the back, so its
   * next() is always the oldest live entry, exactly what a fresh iteration
   * would yield first. Replaced when exhausted (a finished Map iterator never
   * yields again, even for keys added later) and after restore().
   */
  #cursor: MapIterator<[string, number]> | undefined

  get size(): number {
    return this.#slots.size
  }

  has(key: string): boolean {
    return this.#slots.has(key)
  }

  get(key: string): Bucket | undefined {
    const slot = this.#slots.get(key)
    return slot === undefined ? undefined : this.#slab.read(slot)
  }

  /** Stores `bucket` at the back of the queue, or drops the key if it is full at `now`. */
  put(key: string, bucket: Bucket, now: number): void {
    const slot = this.#slots.get(key)
    if (slot !== undefined) this.#slots.delete(key)
    if (now >= bucket.fullAt) {
      if (slot !== undefined) this.#slab.release(slot)
      return
    }
    if (slot === undefined) this.#slots.set(key, this.#slab.allocate(bucket))
    else {
      this.#slab.write(slot, bucket)
      this.#slots.set(key, slot)
    }
  }

  /** Appends exactly as given; only for rebuilding a saved table in its saved order. */
  restore(key: string, bucket: Bucket): void {
    if (this.#slots.has(key)) throw new Error(`duplicate bucket key in restore: ${key}`)
    this.#slots.set(key, this.#slab.allocate(bucket))
    this.#cursor = undefined
  }

  /** Examines up to `count` of the oldest buckets: drops full ones, re-queues the rest. */
  sweep(now: number, count: number): void {
    if (count <= 0 || this.#slots.size === 0) return
    // Collect first, then re-queue: re-queuing while reading would move an
    // entry ahead of the cursor and could hand it out twice in one sweep.
    const oldest: [string, number][] = []
    const cursor = (this.#cursor ??= this.#slots.entries())
    while (oldest.length < count) {
      const next = cursor.next()
      if (next.done === true) {
        // Every live entry has been read in this sweep; start afresh next time.
        this.#cursor = undefined
        break
      }
      oldest.push(next.value)
    }
    for (const [key, slot] of oldest) {
      this.#slots.delete(key)
      if (now >= this.#slab.fullAt(slot)) this.#slab.release(slot)
      else this.#slots.set(key, slot)
    }
  }

  /** Queue order (oldest first), as fresh Bucket objects. */
  *entries(): IterableIterator<[string, Bucket]> {
    for (const [key, slot] of this.#slots) yield [key, this.#slab.read(slot)]
  }

  /** A copy in queue order, unaffected by later changes to the table. */
  columns(): BucketColumns {
    const slab = this.#slab
    const b = new BucketColumnsBuilder(this.#slots.size)
    for (const [key, slot] of this.#slots) b.push(key, slab.level(slot), slab.stamp(slot), slab.windowMs(slot), slab.fullAt(slot))
    return b.build()
  }
}
