// Checks stored entries one by one, in key order, as load() reads them.
// The first record that cannot be trusted marks the start of a bad tail (DESIGN §3.3):
// a torn or flipped value, a value under the wrong key, a hole, or a term going backwards.
import type { Entry, SnapshotMeta } from '../raft/types.js'
import { decodeEntry } from './entry-codec.js'
import { entryKeyIndex } from './log-keys.js'

export interface Corruption {
  /** The first index that is not returned: everything from here on is dropped. */
  readonly index: number
  readonly reason: string
}

export class LogScan {
  private prev: Pick<Entry, 'index' | 'term'> | null

  /** With a snapshot, the first entry must follow it directly. */
  constructor(after: SnapshotMeta | null = null) {
    this.prev = after
  }

  /** The last entry accepted so far (or the snapshot's position), or null. */
  get last(): Pick<Entry, 'index' | 'term'> | null {
    return this.prev
  }

  /** Accepts the next stored record, or says why it (and everything after it) is bad. */
  accept(key: Buffer, value: Buffer): Entry | Corruption {
    const prev = this.prev
    const keyIndex = entryKeyIndex(key)
    if (keyIndex === null) {
      return { index: prev === null ? 1 : prev.index + 1, reason: `malformed entry key ${key.toString('hex')}` }
    }
    if (prev !== null && keyIndex !== prev.index + 1) {
      return { index: prev.index + 1, reason: `missing entry ${prev.index + 1} (next stored entry is ${keyIndex})` }
    }
    const decoded = decodeEntry(value)
    if (typeof decoded === 'string') return { index: keyIndex, reason: decoded }
    if (decoded.index !== keyIndex) {
      return { index: keyIndex, reason: `entry stored under index ${keyIndex} claims index ${decoded.index}` }
    }
    if (prev !== null && decoded.term < prev.term) {
      return { index: keyIndex, reason: `term ${decoded.term} is lower than the previous entry's term ${prev.term}` }
    }
    this.prev = decoded
    return decoded
  }
}

export function isCorruption(r: Entry | Corruption): r is Corruption {
  return 'reason' in r
}
