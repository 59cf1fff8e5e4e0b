// LevelDB key layout. Entry keys are a prefix byte + 8-byte big-endian index,
// so LevelDB's bytewise order is numeric order and a range scan reads the log in order.
import { readUint64BE, writeUint64BE } from './uint64.js'

const ENTRY_PREFIX = 0x65 // 'e'
const HARD_STATE_PREFIX = 0x68 // 'h'
const SNAPSHOT_META_PREFIX = 0x6d // 'm'
const SNAPSHOT_DATA_PREFIX = 0x73 // 's'
const SNAPSHOT_LINES_META_PREFIX = 0x6e // 'n'
const SNAPSHOT_LINE_PREFIX = 0x70 // 'p'
const LINE_KEY_SIZE = 13

export const ENTRY_KEY_SIZE = 9

/** The single key holding term, vote and commit. */
export const HARD_STATE_KEY: Buffer = Buffer.from([HARD_STATE_PREFIX])

/** The snapshot's position, generation and line count (snapshot-lines-codec.ts), small so opening the store need not read the image. */
export const SNAPSHOT_LINES_META_KEY: Buffer = Buffer.from([SNAPSHOT_LINES_META_PREFIX])
/** Before line-stored snapshots: the snapshot's meta and its whole image (legacy-snapshot-codec.ts). */
export const LEGACY_SNAPSHOT_META_KEY: Buffer = Buffer.from([SNAPSHOT_META_PREFIX])
export const LEGACY_SNAPSHOT_DATA_KEY: Buffer = Buffer.from([SNAPSHOT_DATA_PREFIX])

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

/** Key of one stored snapshot line: prefix | generation (8) | line number (4), so a generation's lines scan in order. */
export function lineKey(generation: number, line: number): Buffer {
  const key = Buffer.allocUnsafe(LINE_KEY_SIZE)
  key[0] = SNAPSHOT_LINE_PREFIX
  writeUint64BE(key, generation, 1)
  key.writeUInt32BE(line, 9)
  return key
}

/** [from, to) over every line key of `generation` (or of all generations from it on, with `andLater`). */
export function lineKeyRange(generation: number, andLater = false): { gte: Buffer; lt: Buffer } {
  return { gte: lineKey(generation, 0), lt: andLater ? Buffer.from([SNAPSHOT_LINE_PREFIX + 1]) : lineKey(generation + 1, 0) }
}

/** Every line key before `generation`'s. */
export function lineKeysBefore(generation: number): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.from([SNAPSHOT_LINE_PREFIX]), lt: lineKey(generation, 0) }
}

/** Generation and line number of a line key, or null for any other key. */
export function lineKeyParts(key: Buffer): { generation: number; line: number } | null {
  if (key.length !== LINE_KEY_SIZE || key[0] !== SNAPSHOT_LINE_PREFIX) return null
  return { generation: readUint64BE(key, 1), line: key.readUInt32BE(9) }
}

