// The bucket table's index: key -> slot, plus the eviction queue (oldest
// first), in typed arrays only. A Map<string, number> over a million ids
// held 56 MB of hash table and 32 MB of key strings in the V8 heap; this
// holds about 44 B per key outside it (packed-keys.ts has the key bytes).
//
// Slots are small integers handed out here and reused after remove(); the
// caller keeps per-slot values (the bucket columns) in arrays of the same
// capacity. The hash table is open addressing with linear probing and
// backward-shift deletion, so it never holds tombstones. The queue is a
// doubly linked list through the slots. Nothing observable depends on the
// hash seed, slot numbers or byte layout: only on keys and queue order.
import { byteLength, formOf, isNarrow, keyEquals, readKey, writeKey } from './packed-keys.js'

const NONE = -1
const MIN_SLOTS = 1024
const MIN_BYTES = 16 * 1024

/**
 * A seeded string hash over UTF-16 code units (FNV-1a steps, then a
 * murmur3 finalizer). The seed keeps clients from choosing ids that all land
 * in one probe chain; replicas may use different seeds.
 */
export function keyHash(key: string, seed: number): number {
  let h = (seed ^ 0x811c9dc5) >>> 0
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export class KeyQueue {
  readonly #seed: number
  // Per slot.
  #hash = new Uint32Array(MIN_SLOTS)
  #prev = new Int32Array(MIN_SLOTS)
  /** Next newer slot in the queue; for a free slot, the next free one. */
  #next = new Int32Array(MIN_SLOTS)
  #start = new Uint32Array(MIN_SLOTS)
  #form = new Uint32Array(MIN_SLOTS)
  /** Slots below this have been handed out at least once. */
  #used = 0
  #freeHead = NONE
  // Slot + 1 per table position; 0 is empty. At most half full.
  #table = new Int32Array(MIN_SLOTS * 2)
  #bytes = new Uint8Array(MIN_BYTES)
  #bytesEnd = 0
  #bytesLive = 0
  #head = NONE
  #tail = NONE
  #size = 0

  constructor(seed = 0) {
    this.#seed = seed >>> 0
  }

  get size(): number {
    return this.#size
  }

  /** Slots handed out so far fit below this; per-slot arrays kept by the caller must be this long. */
  get capacity(): number {
    return this.#hash.length
  }

  /** The slot holding `key`, or -1. */
  find(key: string): number {
    const h = keyHash(key, this.#seed)
    const form = formOf(key, isNarrow(key))
    const table = this.#table
    const mask = table.length - 1
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = (table[i] ?? 0) - 1
      if (slot === NONE) return NONE
      if (this.#hash[slot] === h && keyEquals(this.#bytes, this.#start[slot] ?? 0, this.#form[slot] ?? 0, key, form)) return slot
    }
  }

  /** Adds `key`, which must be absent, at the back of the queue; returns its slot. */
  append(key: string): number {
    const h = keyHash(key, this.#seed)
    const form = formOf(key, isNarrow(key))
    if ((this.#size + 1) * 2 > this.#table.length) this.#rehash(this.#table.length * 2)
    const slot = this.#allocate()
    this.#hash[slot] = h
    this.#form[slot] = form
    const start = this.#reserveBytes(byteLength(form))
    this.#start[slot] = start
    this.#bytesEnd = writeKey(this.#bytes, start, key, form)
    this.#bytesLive += byteLength(form)
    this.#place(slot)
    this.#link(slot)
    this.#size++
    return slot
  }

  /** Drops `slot` from the index and the queue; the slot may be handed out again. */
  remove(slot: number): void {
    this.#displace(slot)
    this.#unlink(slot)
    this.#bytesLive -= byteLength(this.#form[slot] ?? 0)
    this.#next[slot] = this.#freeHead
    this.#freeHead = slot
    this.#size--
  }

  /** Moves `slot` to the back of the queue (most recently touched). */
  moveToBack(slot: number): void {
    if (slot === this.#tail) return
    this.#unlink(slot)
    this.#link(slot)
  }

  /** The oldest slot, or -1 when empty. */
  oldest(): number {
    return this.#head
  }

  /** The slot queued after `slot`, or -1 at the back. */
  after(slot: number): number {
    return this.#next[slot] ?? NONE
  }

  keyOf(slot: number): string {
    return readKey(this.#bytes, this.#start[slot] ?? 0, this.#form[slot] ?? 0)
  }

  #allocate(): number {
    const free = this.#freeHead
    if (free !== NONE) {
      this.#freeHead = this.#next[free] ?? NONE
      return free
    }
    if (this.#used === this.#hash.length) this.#growSlots()
    return this.#used++
  }

  #link(slot: number): void {
    this.#prev[slot] = this.#tail
    this.#next[slot] = NONE
    if (this.#tail === NONE) this.#head = slot
    else this.#next[this.#tail] = slot
    this.#tail = slot
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot] ?? NONE
    const next = this.#next[slot] ?? NONE
    if (prev === NONE) this.#head = next
    else this.#next[prev] = next
    if (next === NONE) this.#tail = prev
    else this.#prev[next] = prev
  }

  /** Puts `slot` in the first empty position of its probe chain. */
  #place(slot: number): void {
    const table = this.#table
    const mask = table.length - 1
    let i = (this.#hash[slot] ?? 0) & mask
    while (table[i] !== 0) i = (i + 1) & mask
    table[i] = slot + 1
  }

  /** Takes `slot` out of the table, shifting later members of the chain back so no gap breaks a probe. */
  #displace(slot: number): void {
    const table = this.#table
    const mask = table.length - 1
    let hole = (this.#hash[slot] ?? 0) & mask
    while (table[hole] !== slot + 1) hole = (hole + 1) & mask
    for (let j = (hole + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = (this.#hash[(table[j] ?? 1) - 1] ?? 0) & mask
      // The entry at j may fill the hole unless its home lies cyclically in
      // (hole, j]: then a probe from its home would no longer pass the hole.
      if (((home - hole - 1) & mask) <= ((j - hole - 1) & mask)) continue
      table[hole] = table[j] ?? 0
      hole = j
    }
    table[hole] = 0
  }

  #rehash(size: number): void {
    this.#table = new Int32Array(size)
    for (let s = this.#head; s !== NONE; s = this.#next[s] ?? NONE) this.#place(s)
  }

  /** Doubling keeps the copying amortized O(1) per key. */
  #growSlots(): void {
    const size = this.#hash.length * 2
    this.#hash = grown(this.#hash, new Uint32Array(size))
    this.#prev = grown(this.#prev, new Int32Array(size))
    this.#next = grown(this.#next, new Int32Array(size))
    this.#start = grown(this.#start, new Uint32Array(size))
    this.#form = grown(this.#form, new Uint32Array(size))
  }

  /**
   * Where `n` more key bytes go. Removed keys leave their bytes behind; when
   * the array is full, the live keys are copied into a new one at most half
   * full, so each copy is paid for by as many bytes appended since.
   */
  #reserveBytes(n: number): number {
    if (this.#bytesEnd + n <= this.#bytes.length) return this.#bytesEnd
    const live = this.#bytesLive + n
    let size = MIN_BYTES
    while (size < live * 2) size *= 2
    const from = this.#bytes
    const to = new Uint8Array(size)
    let end = 0
    for (let s = this.#head; s !== NONE; s = this.#next[s] ?? NONE) {
      const start = this.#start[s] ?? 0
      const len = byteLength(this.#form[s] ?? 0)
      to.set(from.subarray(start, start + len), end)
      this.#start[s] = end
      end += len
    }
    this.#bytes = to
    this.#bytesEnd = end
    return end
  }
}

function grown<T extends Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from)
  return to
}
