// The bucket table as it was at one moment, read while the table moves on:
// what an asynchronous snapshot encodes. Instead of copying every row (44 B
// a bucket, 44 MB at a million), it copies only the queue order (4 B a
// bucket) and reads rows from the live table, except for slots the table
// has changed or freed since: the table hands those rows over first
// (preserve), so the view keeps just what was overwritten.
import type { BucketRows } from './bucket-rows.js'

/** The live table's current row in a slot. */
export interface SlotReader {
  keyOf(slot: number): string
  level(slot: number): number
  stamp(slot: number): number
  windowMs(slot: number): number
  fullAt(slot: number): number
}

interface SavedRow {
  readonly key: string
  readonly level: number
  readonly stamp: number
  readonly windowMs: number
  readonly fullAt: number
}

export class FrozenBuckets implements BucketRows {
  readonly #saved = new Map<number, SavedRow>()
  #open = true
  // Row i's saved copy, looked up once for the five reads of one row.
  #row = -1
  #rowSaved: SavedRow | undefined

  constructor(
    /** Slots in queue order at the moment of freezing. */
    private readonly order: Int32Array,
    private readonly live: SlotReader,
    private readonly onClose: (view: FrozenBuckets) => void,
  ) {}

  get count(): number {
    return this.order.length
  }

  /** Keeps `slot`'s current row; the table calls this before it changes or frees the slot. */
  preserve(slot: number): void {
    if (this.#saved.has(slot)) return
    this.#row = -1
    const live = this.live
    this.#saved.set(slot, { key: live.keyOf(slot), level: live.level(slot), stamp: live.stamp(slot), windowMs: live.windowMs(slot), fullAt: live.fullAt(slot) })
  }

  /** Rows changed since the freeze whose old values this view holds. */
  get preserved(): number {
    return this.#saved.size
  }

  /** Releases the view: the table stops handing it rows, and it can no longer be read. */
  close(): void {
    if (!this.#open) return
    this.#open = false
    this.#saved.clear()
    this.onClose(this)
  }

  key(i: number): string {
    return this.#savedRow(i)?.key ?? this.live.keyOf(this.#slot(i))
  }

  level(i: number): number {
    return this.#savedRow(i)?.level ?? this.live.level(this.#slot(i))
  }

  stamp(i: number): number {
    return this.#savedRow(i)?.stamp ?? this.live.stamp(this.#slot(i))
  }

  windowMs(i: number): number {
    return this.#savedRow(i)?.windowMs ?? this.live.windowMs(this.#slot(i))
  }

  fullAt(i: number): number {
    return this.#savedRow(i)?.fullAt ?? this.live.fullAt(this.#slot(i))
  }

  #slot(i: number): number {
    const slot = this.order[i]
    if (slot === undefined) throw new RangeError(`bucket row ${i} out of ${this.count}`)
    return slot
  }

  #savedRow(i: number): SavedRow | undefined {
    if (!this.#open) throw new Error('bucket view read after close()')
    if (i !== this.#row) {
      this.#row = i
      this.#rowSaved = this.#saved.get(this.#slot(i))
    }
    return this.#rowSaved
  }
}
