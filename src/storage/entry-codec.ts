// Binary value of one stored log entry:
//   crc32 (4) | index (8) | term (8) | kind (1: 0 noop, 1 cmd, 2 config) | UTF-8 data
// The CRC covers everything after it. The index is inside the value too, so a
// value that ends up under the wrong key (a misdirected write) is caught on load.
import { crc32 } from 'node:zlib'
import type { Entry, EntryKind } from '../raft/types.js'
import { readUint64BE, writeUint64BE } from './uint64.js'

export const ENTRY_HEADER_SIZE = 21
const CRC_SIZE = 4
const INDEX_OFFSET = 4
const TERM_OFFSET = 12
const KIND_OFFSET = 20

const KIND_NOOP = 0
const KIND_CMD = 1
const KIND_CONFIG = 2

const KIND_BYTES: Record<EntryKind, number> = { noop: KIND_NOOP, cmd: KIND_CMD, config: KIND_CONFIG }

/** Bytes the encoded entry takes; save() sums these to allocate one buffer per batch. */
export function encodedEntrySize(entry: Entry): number {
  return ENTRY_HEADER_SIZE + Buffer.byteLength(entry.data, 'utf8')
}

/**
 * Encodes `entry` into `buf` starting at `offset`; `buf` must have room for
 * encodedEntrySize(entry) bytes. Returns the offset just past the value.
 */
export function encodeEntryInto(buf: Buffer, offset: number, entry: Entry): number {
  writeUint64BE(buf, entry.index, offset + INDEX_OFFSET)
  writeUint64BE(buf, entry.term, offset + TERM_OFFSET)
  buf[offset + KIND_OFFSET] = KIND_BYTES[entry.kind]
  const end = offset + ENTRY_HEADER_SIZE + buf.write(entry.data, offset + ENTRY_HEADER_SIZE, 'utf8')
  buf.writeUInt32BE(crc32(buf.subarray(offset + CRC_SIZE, end)), offset)
  return end
}

export function encodeEntry(entry: Entry): Buffer {
  const buf = Buffer.allocUnsafe(encodedEntrySize(entry))
  encodeEntryInto(buf, 0, entry)
  return buf
}

/** The entry, or a short reason why the bytes cannot be trusted. */
export function decodeEntry(buf: Buffer): Entry | string {
  if (buf.length < ENTRY_HEADER_SIZE) return `too short: ${buf.length} bytes, header needs ${ENTRY_HEADER_SIZE}`
  const stored = buf.readUInt32BE(0)
  const actual = crc32(buf.subarray(CRC_SIZE))
  if (stored !== actual) return `checksum mismatch: stored ${stored.toString(16)}, computed ${actual.toString(16)}`
  const kindByte = buf[KIND_OFFSET]
  let kind: EntryKind
  if (kindByte === KIND_NOOP) kind = 'noop'
  else if (kindByte === KIND_CMD) kind = 'cmd'
  else if (kindByte === KIND_CONFIG) kind = 'config'
  else return `bad kind byte ${String(kindByte)}`
  return {
    index: readUint64BE(buf, INDEX_OFFSET),
    term: readUint64BE(buf, TERM_OFFSET),
    kind,
    data: buf.toString('utf8', ENTRY_HEADER_SIZE),
  }
}
