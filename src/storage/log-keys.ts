// LevelDB key layout. Entry keys are a prefix byte + 8-byte big-endian index,
// so LevelDB's bytewise order is numeric order and a range scan reads the log in order.
import { readUint64BE, writeUint64BE } from './uint64.js'

const ENTRY_PREFIX = 0x65 // 'e'
const HARD_STATE_PREFIX = 0x68 // 'h'
const SNAPSHOT_META_PREFIX = 0x6d // 'm'
const SNAPSHOT_DATA_PREFIX = 0x73 // 's'

export const ENTRY_KEY_SIZE = 9

/** The single key holding term, vote and commit. */
export const HARD_STATE_KEY: Buffer = Buffer.from([HARD_STATE_PREFIX])

/** The snapshot's index and term, small so opening the store need not read the image. */
export const SNAPSHOT_META_KEY: Buffer = Buffer.from([SNAPSHOT_META_PREFIX])
/** The snapshot's state-machine image. */
export const SNAPSHOT_DATA_KEY: Buffer = Buffer.from([SNAPSHOT_DATA_PREFIX])

/** Bounds for a range scan over every entry key: [ENTRY_KEY_MIN, ENTRY_KEY_END). */
export const ENTRY_KEY_MIN: Buffer = Buffer.from([ENTRY_PREFIX])
export const ENTRY_KEY_END: Buffer = Buffer.from([ENTRY_PREFIX + 1])

/** Writes the key for `index` into `buf` at `offset` (lets save() fill one preallocated buffer). */
export function writeEntryKey(buf: Buffer, index: number, offset: number): void {
  buf[offset] = ENTRY_PREFIX
  writeUint64BE(buf, index, offset + 1)
}

export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(ENTRY_KEY_SIZE)
  writeEntryKey(key, index, 0)
  return key
}

/** The index in an entry key, or null if the key is not a well-formed entry key. */
export function entryKeyIndex(key: Buffer): number | null {
  if (key.length !== ENTRY_KEY_SIZE || key[0] !== ENTRY_PREFIX) return null
  const index = readUint64BE(key, 1)
  return Number.isSafeInteger(index) ? index : null
}
