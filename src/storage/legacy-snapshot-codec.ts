// How snapshots were stored before images were kept line by line
// (snapshot-lines-codec.ts): two values written in one batch,
//   meta: crc32 (4) | index (8) | term (8) | crc32 of the image (4) [| cluster config, JSON]
//   data: UTF-8 image
// The meta carries the image's checksum, so a torn or mismatched pair is caught on load.
// A store written by an older version is still read; its next snapshot is
// written the new way and deletes these two values. Encoding stays for tests.
import { crc32 } from 'node:zlib'
import { decodeConfig, encodeConfig } from '../raft/config.js'
import type { Snapshot, SnapshotMeta } from '../raft/types.js'
import { readUint64BE, writeUint64BE } from './uint64.js'

const META_SIZE = 24

export interface EncodedSnapshot {
  readonly meta: Buffer
  readonly data: Buffer
}

export function encodeLegacySnapshot(s: Snapshot): EncodedSnapshot {
  const data = Buffer.from(s.data, 'utf8')
  const config = s.config === undefined ? '' : encodeConfig(s.config)
  const meta = Buffer.allocUnsafe(META_SIZE + Buffer.byteLength(config, 'utf8'))
  meta.write(config, META_SIZE, 'utf8')
  writeUint64BE(meta, s.index, 4)
  writeUint64BE(meta, s.term, 12)
  meta.writeUInt32BE(crc32(data), 20)
  meta.writeUInt32BE(crc32(meta.subarray(4)), 0)
  return { meta, data }
}

/** Index and term, or a short reason why the bytes cannot be trusted. */
export function decodeLegacySnapshotMeta(meta: Buffer): (SnapshotMeta & { readonly dataCrc: number }) | string {
  if (meta.length < META_SIZE) return `snapshot meta is ${meta.length} bytes, expected at least ${META_SIZE}`
  if (meta.readUInt32BE(0) !== crc32(meta.subarray(4))) return 'snapshot meta checksum mismatch'
  const head = { index: readUint64BE(meta, 4), term: readUint64BE(meta, 12), dataCrc: meta.readUInt32BE(20) }
  if (meta.length === META_SIZE) return head
  const config = decodeConfig(meta.toString('utf8', META_SIZE))
  return typeof config === 'string' ? `snapshot meta: ${config}` : { ...head, config }
}

export function decodeLegacySnapshot(meta: Buffer, data: Buffer): Snapshot | string {
  const m = decodeLegacySnapshotMeta(meta)
  if (typeof m === 'string') return m
  if (crc32(data) !== m.dataCrc) return 'snapshot image checksum mismatch'
  const image = data.toString('utf8')
  return m.config === undefined ? { index: m.index, term: m.term, data: image } : { index: m.index, term: m.term, config: m.config, data: image }
}
