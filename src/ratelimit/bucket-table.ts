// The bucket table with deterministic eviction. A full bucket equals an
// absent one, so it is dropped; the KeyQueue's order is the eviction queue
// (touched keys move to the back), and each apply examines a fixed number of
// the oldest entries. Same operations in the same order give the same table
// on every replica, and keys that stop being used are eventually dropped.
// Keys, index and queue live in the KeyQueue's typed arrays and the bucket
// fields in a BucketSlab under the same slot, so a bucket costs no V8 object
// or string of its own.
import { type Bucket } from './bucket.js'
import { BucketSlab } from './bucket-slab.js'
import { FrozenBuckets, type SlotReader } from './frozen-buckets.js'
import { KeyQueue } from './key-queue.js'

export class BucketTable {
  readonly #keys: KeyQueue
  readonly #slab = new BucketSlab()
  /** Views handed out by freeze() and not yet closed. */
  readonly #frozen = new Set<FrozenBuckets>()

  /** `hashSeed` only spreads keys over the index; tables with different seeds behave the same. */
  constructor(hashSeed = 0) {
    this.#keys = new KeyQueue(hashSeed)
  }

  get size(): number {
    return this.#keys.size
  }

  has(key: string): boolean {
    return this.#keys.find(key) >= 0
  }

  get(key: string): Bucket | undefined {
    const slot = this.#keys.find(key)
    return slot < 0 ? undefined : this.#slab.read(slot)
  }

  /** Stores `bucket` at the back of the queue, or drops the key if it is full at `now`. */
  put(key: string, bucket: Bucket, now: number): void {
    let slot = this.#keys.find(key)
    if (slot >= 0) this.#beforeChange(slot)
    if (now >= bucket.fullAt) {
      if (slot >= 0) this.#keys.remove(slot)
      return
    }
    if (slot < 0) slot = this.#keys.append(key)
    else this.#keys.moveToBack(slot)
    this.#slab.write(slot, bucket)
  }

  /** Appends exactly as given; only for rebuilding a saved table in its saved order. */
  restore(key: string, bucket: Bucket): void {
    if (this.#keys.find(key) >= 0) throw new Error(`duplicate bucket key in restore: ${key}`)
    this.#slab.write(this.#keys.append(key), bucket)
  }

  /** Examines up to `count` of the oldest buckets: drops full ones, re-queues the rest. */
  sweep(now: number, count: number): void {
    const keys = this.#keys
    // Re-queued buckets go to the back, so after min(count, size) steps every
    // one examined has been seen once; none is handed out twice.
    for (let n = Math.min(count, keys.size); n > 0; n--) {
      const slot = keys.oldest()
      if (now >= this.#slab.fullAt(slot)) {
        this.#beforeChange(slot)
        keys.remove(slot)
      } else keys.moveToBack(slot)
    }
  }

  /** Queue order (oldest first), as fresh Bucket objects. */
  *entries(): IterableIterator<[string, Bucket]> {
    for (let s = this.#keys.oldest(); s >= 0; s = this.#keys.after(s)) yield [this.#keys.keyOf(s), this.#slab.read(s)]
  }

  /**
   * The table as it is now, in queue order, readable while the table keeps
   * changing until the view is closed. An open view costs a saved row for
   * each slot changed meanwhile: close it as soon as it has been read.
   */
  freeze(): FrozenBuckets {
    const keys = this.#keys
    const order = new Int32Array(keys.size)
    let i = 0
    for (let s = keys.oldest(); s >= 0; s = keys.after(s)) order[i++] = s
    const slab = this.#slab
    const live: SlotReader = {
      keyOf: (s) => keys.keyOf(s),
      level: (s) => slab.level(s),
      stamp: (s) => slab.stamp(s),
      windowMs: (s) => slab.windowMs(s),
      fullAt: (s) => slab.fullAt(s),
    }
    const view = new FrozenBuckets(order, live, (v) => this.#frozen.delete(v))
    this.#frozen.add(view)
    return view
  }

  /** Open views keep the row `slot` holds now: it is about to be overwritten or freed. */
  #beforeChange(slot: number): void {
    if (this.#frozen.size === 0) return
    for (const view of this.#frozen) view.preserve(slot)
  }
}
