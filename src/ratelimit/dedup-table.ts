// Remembers the first decision per (key, requestId) for a TTL of log time
// AND a minimum number of later applies: log time alone follows the leader's
// clock, and a leader whose clock jumps an hour ahead would otherwise forget
// every id at once, so a client's retry would spend a second time.
// Entries are inserted with non-decreasing stamps and increasing sequence
// numbers, so the Map's insertion order is also expiry order and expiring is
// a pop from the front: deterministic and amortized O(1).
import type { Decision } from './decision.js'

export interface DedupEntry {
  readonly key: string
  readonly requestId: string
  /** Effective time of the first apply. */
  readonly stamp: number
  /** The state machine's apply count at the first apply. */
  readonly seq: number
  readonly decision: Decision
}

/** Length-prefixing the key makes the pair unambiguous whatever characters either holds. */
function idOf(key: string, requestId: string): string {
  return `${key.length}:${key}${requestId}`
}

export class DedupTable {
  readonly #entries = new Map<string, DedupEntry>()
  readonly #ttlMs: number
  readonly #minApplies: number
  /** Stamp of the newest entry; Map has no O(1) last(). */
  #newest = 0
  /** Where expire() stopped reading, and the entry it read last if still live. */
  #cursor: MapIterator<[string, DedupEntry]> | undefined
  #head: [string, DedupEntry] | undefined

  constructor(ttlMs: number, minApplies = 0) {
    this.#ttlMs = ttlMs
    this.#minApplies = minApplies
  }

  get size(): number {
    return this.#entries.size
  }

  /** Drops entries older than the TTL at `now` (age > ttl) that are also at least minApplies applies old at `seq`. */
  expire(now: number, seq: number): void {
    // Not a fresh `for...of` per call: that starts at the front of V8's
    // ordered hash table and steps over every slot deleted there so far, on
    // every apply. The cursor has already passed those (entries are never
    // re-inserted, so everything before it is deleted), and #head is the
    // oldest live entry it handed out but that has not expired yet.
    for (;;) {
      if (this.#head === undefined) {
        const cursor = (this.#cursor ??= this.#entries.entries())
        const next = cursor.next()
        if (next.done === true) {
          // A finished Map iterator never yields again, even for later entries.
          this.#cursor = undefined
          return
        }
        this.#head = next.value
      }
      const [id, entry] = this.#head
      if (now - entry.stamp <= this.#ttlMs || seq - entry.seq < this.#minApplies) return
      this.#entries.delete(id)
      this.#head = undefined
    }
  }

  get(key: string, requestId: string): Decision | undefined {
    return this.#entries.get(idOf(key, requestId))?.decision
  }

  /** Stamps must not decrease across calls; the first decision for an id wins. */
  remember(entry: DedupEntry): void {
    const id = idOf(entry.key, entry.requestId)
    if (this.#entries.has(id)) return
    if (this.#entries.size > 0 && entry.stamp < this.#newest) {
      throw new Error(`dedup entries must be added in stamp order (${entry.stamp} < ${this.#newest})`)
    }
    this.#entries.set(id, entry)
    this.#newest = entry.stamp
  }

  /** Insertion (= expiry) order. */
  entries(): IterableIterator<DedupEntry> {
    return this.#entries.values()
  }
}
