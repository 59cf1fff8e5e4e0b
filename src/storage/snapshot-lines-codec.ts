// Stored snapshot, kept as the image's lines (ratelimit/snapshot.ts): one
// LevelDB value per line, so no value is ever the whole image. A local
// snapshot is written a line at a time as the state machine produces it;
// nothing refers to those lines until one synced batch writes the meta.
//   meta:  crc32 (4) | index (8) | term (8) | generation (8) | lines (4) [| cluster config, JSON]
//   line:  crc32 of the text (4) | UTF-8 text, under lineKey(generation, line number)
// Each snapshot written gets a new generation, so the stored one stays whole
// until the meta naming its successor is on disk.
import { crc32 } from 'node:zlib'
import { decodeConfig, encodeConfig } from '../raft/config.js'
import type { SnapshotMeta } from '../raft/types.js'
import { readUint64BE, writeUint64BE } from './uint64.js'

const META_SIZE = 32

export interface LinesMeta extends SnapshotMeta {
  readonly generation: number
  readonly lines: number
}

export function encodeLinesMeta(m: LinesMeta): Buffer {
  const config = m.config === undefined ? '' : encodeConfig(m.config)
  const meta = Buffer.allocUnsafe(META_SIZE + Buffer.byteLength(config, 'utf8'))
  meta.write(config, META_SIZE, 'utf8')
  writeUint64BE(meta, m.index, 4)
  writeUint64BE(meta, m.term, 12)
  writeUint64BE(meta, m.generation, 20)
  meta.writeUInt32BE(m.lines, 28)
  meta.writeUInt32BE(crc32(meta.subarray(4)), 0)
  return meta
}

/** The meta, or a short reason why the bytes cannot be trusted. */
export function decodeLinesMeta(meta: Buffer): LinesMeta | string {
  if (meta.length < META_SIZE) return `snapshot meta is ${meta.length} bytes, expected at least ${META_SIZE}`
  if (meta.readUInt32BE(0) !== crc32(meta.subarray(4))) return 'snapshot meta checksum mismatch'
  const head = { index: readUint64BE(meta, 4), term: readUint64BE(meta, 12), generation: readUint64BE(meta, 20), lines: meta.readUInt32BE(28) }
  if (meta.length === META_SIZE) return head
  const config = decodeConfig(meta.toString('utf8', META_SIZE))
  return typeof config === 'string' ? `snapshot meta: ${config}` : { ...head, config }
}

export function encodeLine(text: string): Buffer {
  if (text.includes('\n')) throw new RangeError('a snapshot line cannot hold a newline')
  const value = Buffer.allocUnsafe(4 + Buffer.byteLength(text, 'utf8'))
  value.write(text, 4, 'utf8')
  value.writeUInt32BE(crc32(value.subarray(4)), 0)
  return value
}

/** The line's text, or a reason it cannot be trusted. */
export function decodeLine(value: Buffer): string | { readonly problem: string } {
  if (value.length < 4) return { problem: 'snapshot line shorter than its checksum' }
  if (value.readUInt32BE(0) !== crc32(value.subarray(4))) return { problem: 'snapshot line checksum mismatch' }
  return value.toString('utf8', 4)
}
