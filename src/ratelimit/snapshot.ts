// Full serialization of the state machine. Order is kept (bucket queue and
// dedup expiry order) because it decides future evictions and expiries, so a
// restored machine behaves exactly like the original. Decoding validates
// everything: a snapshot arrives from a peer or from disk.
//
// Version 3 is a list of lines, each a JSON text of its own:
//   {"v":3,"lastStamp":L,"seq":S,"buckets":B,"dedup":D}
//   [bucket row, ...]        B rows in all, ROWS_PER_LINE to a line
//   [request-id row, ...]    D rows in all
// joined by "\n" (JSON text never holds a raw newline). A line is small, so
// the image can be produced, stored, sent and decoded one line at a time and
// is never one large string or buffer (snapshot-reader.ts decodes it).
// Versions 1 and 2 were one JSON object holding every row; they still load.
import type { BucketRows } from './bucket-rows.js'
import type { DedupEntry, DedupRows } from './dedup-columns.js'
import { isIntIn } from './int-math.js'
import { MAX_BURST, MAX_STAMP, MAX_WINDOW_MS, policyProblem, type Policy } from './policy.js'

export interface StateImage {
  readonly lastStamp: number
  /** Applies so far (request ids expire by it as well as by time). */
  readonly seq: number
  /** Queue order, oldest first. */
  readonly buckets: BucketRows
  /** Expiry order, oldest first. */
  readonly dedup: DedupRows
}

/** v2 added `seq` (machine and per request id; v1 images load with seq 0); v3 split the image into lines. */
export const SNAPSHOT_VERSION = 3
/** Rows per line: about 250 KB of bucket rows, encoded or decoded in a few milliseconds. */
export const ROWS_PER_LINE = 4096
const MAX_LEVEL = MAX_BURST * MAX_WINDOW_MS
const MAX_FULL_AT = MAX_STAMP + MAX_LEVEL

export type BucketRow = [key: string, level: number, stamp: number, windowMs: number, fullAt: number]
type DedupRow = [
  key: string,
  requestId: string,
  stamp: number,
  admitted: 0 | 1,
  remaining: number,
  retryAfterMs: number,
  resetMs: number,
  refill: number,
  windowMs: number,
  burst: number,
  seq: number,
]

/**
 * JSON.stringify([key, level, stamp, windowMs, fullAt]) without the
 * intermediate array (a third of the encoding time at a million rows): the
 * numbers are safe integers, whose JSON text is their String().
 */
function bucketRowText(rows: BucketRows, i: number): string {
  return `[${JSON.stringify(rows.key(i))},${rows.level(i)},${rows.stamp(i)},${rows.windowMs(i)},${rows.fullAt(i)}]`
}

function dedupRowText(e: DedupEntry): string {
  const d = e.decision
  const row: DedupRow = [e.key, e.requestId, e.stamp, d.admitted ? 1 : 0, d.remaining, d.retryAfterMs, d.resetMs,
    d.policy.refill, d.policy.windowMs, d.policy.burst, e.seq]
  return JSON.stringify(row)
}

function* rowLines(count: number, rowsPerLine: number, rowText: (i: number) => string): Generator<string> {
  for (let i = 0; i < count; i += rowsPerLine) {
    const end = Math.min(count, i + rowsPerLine)
    const text: string[] = []
    for (let r = i; r < end; r++) text.push(rowText(r))
    yield `[${text.join(',')}]`
  }
}

/**
 * The image's lines, produced one at a time as the caller asks. The image
 * must not change meanwhile: state-machine.ts hands over copies of its bucket
 * and request-id columns.
 */
export function* snapshotLines(img: StateImage, rowsPerLine = ROWS_PER_LINE): Generator<string> {
  if (!Number.isSafeInteger(rowsPerLine) || rowsPerLine < 1) throw new RangeError(`rowsPerLine must be a positive integer, got ${rowsPerLine}`)
  yield JSON.stringify({ v: SNAPSHOT_VERSION, lastStamp: img.lastStamp, seq: img.seq, buckets: img.buckets.count, dedup: img.dedup.count })
  yield* rowLines(img.buckets.count, rowsPerLine, (i) => bucketRowText(img.buckets, i))
  yield* rowLines(img.dedup.count, rowsPerLine, (i) => dedupRowText(img.dedup.entry(i)))
}

export function encodeSnapshot(img: StateImage, rowsPerLine = ROWS_PER_LINE): string {
  return [...snapshotLines(img, rowsPerLine)].join('\n')
}

export function invalidSnapshot(why: string): never {
  throw new Error(`invalid rate-limit snapshot: ${why}`)
}

function nonEmptyString(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) invalidSnapshot(`${what} must be a non-empty string`)
  return v
}

function int(v: unknown, min: number, max: number, what: string): number {
  if (!isIntIn(v, min, max)) invalidSnapshot(`${what} must be an integer in ${min}..${max}`)
  return v
}

/** A validated bucket row. */
export function decodeBucketRow(row: unknown, lastStamp: number): BucketRow {
  if (!Array.isArray(row) || row.length !== 5) invalidSnapshot('bucket row must have 5 fields')
  const [k, level, stamp, windowMs, fullAt] = row as unknown[]
  return [
    nonEmptyString(k, 'bucket key'),
    int(level, 0, MAX_LEVEL, 'bucket level'),
    int(stamp, 0, lastStamp, 'bucket stamp'),
    int(windowMs, 1, MAX_WINDOW_MS, 'bucket windowMs'),
    int(fullAt, 0, MAX_FULL_AT, 'bucket fullAt'),
  ]
}

export interface SnapshotHeader {
  readonly version: 1 | 2 | 3
  readonly lastStamp: number
  readonly seq: number
}

/** A version-3 header line also counts the rows that follow. */
export interface LinesHeader extends SnapshotHeader {
  readonly buckets: number
  readonly dedup: number
}

function version(o: Record<string, unknown>): 1 | 2 | 3 {
  const v = o['v']
  if (v !== 1 && v !== 2 && v !== SNAPSHOT_VERSION) invalidSnapshot(`unsupported version ${String(v)}`)
  return v
}

/** The scalar fields of a parsed snapshot object (or of its header alone). */
export function decodeHeader(o: Record<string, unknown>): SnapshotHeader {
  const v = version(o)
  const lastStamp = int(o['lastStamp'], 0, MAX_STAMP, 'lastStamp')
  const seq = v === 1 ? 0 : int(o['seq'], 0, Number.MAX_SAFE_INTEGER, 'seq')
  return { version: v, lastStamp, seq }
}

export function decodeLinesHeader(o: Record<string, unknown>): LinesHeader {
  const h = decodeHeader(o)
  if (h.version !== SNAPSHOT_VERSION) invalidSnapshot(`a version-${h.version} image is one JSON object, not lines`)
  return {
    ...h,
    buckets: int(o['buckets'], 0, Number.MAX_SAFE_INTEGER, 'bucket count'),
    dedup: int(o['dedup'], 0, Number.MAX_SAFE_INTEGER, 'request-id count'),
  }
}

/** Validates request-id rows one at a time, in expiry order (stamps and seqs must not go back, ids not repeat). */
export class DedupRowDecoder {
  readonly #seen = new Set<string>()
  #minStamp = 0
  #minSeq = 0

  constructor(readonly header: SnapshotHeader) {}

  decode(row: unknown): DedupEntry {
    const { version, lastStamp, seq: maxSeq } = this.header
    const fields = version === 1 ? 10 : 11
    if (!Array.isArray(row) || row.length !== fields) invalidSnapshot(`dedup row must have ${fields} fields`)
    const [k, rid, stamp, admitted, remaining, retryAfterMs, resetMs, refill, windowMs, burst, seq] = row as unknown[]
    if (admitted !== 0 && admitted !== 1) invalidSnapshot('dedup admitted must be 0 or 1')
    const policy = { refill, windowMs, burst } as Policy
    const problem = policyProblem(policy)
    if (problem !== undefined) invalidSnapshot(`dedup policy: ${problem}`)
    const entry: DedupEntry = {
      key: nonEmptyString(k, 'dedup key'),
      requestId: nonEmptyString(rid, 'dedup requestId'),
      stamp: int(stamp, this.#minStamp, lastStamp, 'dedup stamp (non-decreasing)'),
      seq: version === 1 ? 0 : int(seq, this.#minSeq, maxSeq, 'dedup seq (increasing, at most the machine seq)'),
      decision: {
        admitted: admitted === 1,
        remaining: int(remaining, 0, MAX_BURST, 'dedup remaining'),
        retryAfterMs: int(retryAfterMs, 0, MAX_LEVEL, 'dedup retryAfterMs'),
        resetMs: int(resetMs, 0, MAX_LEVEL, 'dedup resetMs'),
        policy: { refill: policy.refill, windowMs: policy.windowMs, burst: policy.burst },
        duplicate: false,
      },
    }
    const id = JSON.stringify([entry.key, entry.requestId])
    if (this.#seen.has(id)) invalidSnapshot('duplicate dedup entry')
    this.#seen.add(id)
    this.#minStamp = entry.stamp
    if (version !== 1) this.#minSeq = entry.seq + 1
    return entry
  }
}

export function parseSnapshotJson(s: string): unknown {
  try {
    return JSON.parse(s)
  } catch {
    invalidSnapshot('not JSON')
  }
}
