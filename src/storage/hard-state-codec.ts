// Stored hard state: crc32 (4) | JSON. It is one small value written at most once
// per batch, so readable JSON costs nothing; the checksum still guards the vote.
import { crc32 } from 'node:zlib'
import type { HardState } from '../raft/types.js'

export function encodeHardState(hs: HardState): Buffer {
  const json = JSON.stringify({ term: hs.term, vote: hs.vote, commit: hs.commit })
  const buf = Buffer.allocUnsafe(4 + Buffer.byteLength(json, 'utf8'))
  buf.write(json, 4, 'utf8')
  buf.writeUInt32BE(crc32(buf.subarray(4)), 0)
  return buf
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

/** The hard state, or a short reason why the bytes cannot be trusted. */
export function decodeHardState(buf: Buffer): HardState | string {
  if (buf.length < 4) return `too short: ${buf.length} bytes`
  if (buf.readUInt32BE(0) !== crc32(buf.subarray(4))) return 'checksum mismatch'
  let parsed: unknown
  try {
    parsed = JSON.parse(buf.toString('utf8', 4))
  } catch {
    return 'not JSON'
  }
  if (typeof parsed !== 'object' || parsed === null) return 'not an object'
  const { term, vote, commit } = parsed as Record<string, unknown>
  if (!isCount(term) || !isCount(commit) || (vote !== null && typeof vote !== 'string')) {
    return 'fields out of shape'
  }
  return { term, vote, commit }
}
