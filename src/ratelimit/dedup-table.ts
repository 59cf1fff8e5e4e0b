// Remembers the first decision per (key, requestId) for a TTL of log time
// AND a minimum number of later applies: log time alone follows the leader's
// clock, and a leader whose clock jumps an hour ahead would otherwise forget
// every id at once, so a client's retry would spend a second time.
// Entries are inserted with non-decreasing stamps and increasing sequence
// numbers and never moved, so insertion order is also expiry order: entries
// sit in a ring of packed columns (dedup-columns.ts), appended at the tail and
// expired from the head, deterministic and amortized O(1). A Map from the id
// string to its ring slot answers lookups.
import type { Decision } from './decision.js'
import { DedupColumns, idOf, type DedupEntry, type DedupRows } from './dedup-columns.js'

export type { DedupEntry } from './dedup-columns.js'

const MIN_CAPACITY = 1024

export class DedupTable {
  readonly #slots = new Map<string, number>()
  readonly #ttlMs: number
  readonly #minApplies: number
  #ring = new DedupColumns(MIN_CAPACITY)
  /** Slot of the oldest entry. */
  #head = 0
  #count = 0
  /** Stamp of the newest entry. */
  #newest = 0

  constructor(ttlMs: number, minApplies = 0) {
    this.#ttlMs = ttlMs
    this.#minApplies = minApplies
  }

  get size(): number {
    return this.#count
  }

  /** Drops entries older than the TTL at `now` (age > ttl) that are also at least minApplies applies old at `seq`. */
  expire(now: number, seq: number): void {
    const ring = this.#ring
    while (this.#count > 0) {
      const slot = this.#head
      if (now - (ring.stamp[slot] ?? 0) <= this.#ttlMs || seq - (ring.seq[slot] ?? 0) < this.#minApplies) break
      this.#slots.delete(ring.id(slot))
      ring.clear(slot)
      this.#head = (slot + 1) % ring.capacity
      this.#count--
    }
    // Give memory back after a burst of ids, with slack so a steady size never resizes back and forth.
    if (this.#count < ring.capacity / 4 && ring.capacity > MIN_CAPACITY) this.#resize(ring.capacity / 2)
  }

  get(key: string, requestId: string): Decision | undefined {
    const slot = this.#slots.get(idOf(key, requestId))
    return slot === undefined ? undefined : this.#ring.decision(slot)
  }

  /** Stamps must not decrease across calls; the first decision for an id wins. */
  remember(entry: DedupEntry): void {
    const id = idOf(entry.key, entry.requestId)
    if (this.#slots.has(id)) return
    if (this.#count > 0 && entry.stamp < this.#newest) {
      throw new Error(`dedup entries must be added in stamp order (${entry.stamp} < ${this.#newest})`)
    }
    if (this.#count === this.#ring.capacity) this.#resize(this.#ring.capacity * 2)
    const slot = (this.#head + this.#count) % this.#ring.capacity
    this.#ring.write(slot, entry)
    this.#slots.set(id, slot)
    this.#count++
    this.#newest = entry.stamp
  }

  /** Insertion (= expiry) order, as fresh objects. */
  *entries(): IterableIterator<DedupEntry> {
    for (let k = 0; k < this.#count; k++) yield this.#ring.entry((this.#head + k) % this.#ring.capacity)
  }

  /** A copy in expiry order, unaffected by later changes to the table. */
  rows(): DedupRows {
    const copy = this.#ordered(this.#count)
    const count = this.#count
    return { count, entry: (i) => copy.entry(i) }
  }

  /** The ring's entries moved to slots 0..count-1 of new columns of `capacity`. */
  #ordered(capacity: number): DedupColumns {
    const ring = this.#ring
    const to = new DedupColumns(capacity)
    const first = Math.min(this.#count, ring.capacity - this.#head)
    to.copyFrom(ring, this.#head, first, 0)
    to.copyFrom(ring, 0, this.#count - first, first)
    return to
  }

  /** Slot numbers change, so the Map's are rewritten (Map.set keeps a key's place; the order is not used here). */
  #resize(capacity: number): void {
    this.#ring = this.#ordered(capacity)
    this.#head = 0
    for (let slot = 0; slot < this.#count; slot++) this.#slots.set(this.#ring.id(slot), slot)
  }
}
