// Full serialization of the state machine. Order is kept (bucket queue and
// dedup expiry order) because it decides future evictions and expiries, so a
// restored machine behaves exactly like the original. Decoding validates
// everything: a snapshot arrives from a peer or from disk.
import { BucketColumnsBuilder, keyAt, type BucketColumns } from './bucket-columns.js'
import { dedupRowsOf, type DedupEntry, type DedupRows } from './dedup-columns.js'
import { isIntIn } from './int-math.js'
import { MAX_BURST, MAX_STAMP, MAX_WINDOW_MS, policyProblem, type Policy } from './policy.js'

export interface StateImage {
  readonly lastStamp: number
  /** Applies so far (request ids expire by it as well as by time). */
  readonly seq: number
  /** Queue order, oldest first. */
  readonly buckets: BucketColumns
  /** Expiry order, oldest first. */
  readonly dedup: DedupRows
}

/** v2 added `seq` (machine and per request id); v1 images load with seq 0. */
const VERSION = 2
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

function bucketRow(cols: BucketColumns, i: number): BucketRow {
  return [keyAt(cols, i), cols.level[i] ?? 0, cols.stamp[i] ?? 0, cols.windowMs[i] ?? 0, cols.fullAt[i] ?? 0]
}

/**
 * JSON.stringify(bucketRow(cols, i)) without the intermediate array (a third
 * of the encoding time at a million rows): the numbers are safe integers,
 * whose JSON text is their String().
 */
function bucketRowText(cols: BucketColumns, i: number): string {
  return `[${JSON.stringify(keyAt(cols, i))},${cols.level[i] ?? 0},${cols.stamp[i] ?? 0},${cols.windowMs[i] ?? 0},${cols.fullAt[i] ?? 0}]`
}

function dedupRows(rows: DedupRows, from = 0, to = rows.count): DedupRow[] {
  const out: DedupRow[] = []
  for (let i = from; i < to; i++) out.push(dedupRow(rows.entry(i)))
  return out
}

function bucketRows(cols: BucketColumns, from = 0, to = cols.count): BucketRow[] {
  const rows: BucketRow[] = []
  for (let i = from; i < to; i++) rows.push(bucketRow(cols, i))
  return rows
}

function dedupRow(e: DedupEntry): DedupRow {
  const d = e.decision
  return [e.key, e.requestId, e.stamp, d.admitted ? 1 : 0, d.remaining, d.retryAfterMs, d.resetMs,
    d.policy.refill, d.policy.windowMs, d.policy.burst, e.seq]
}

export function encodeSnapshot(img: StateImage): string {
  return JSON.stringify({
    v: VERSION,
    lastStamp: img.lastStamp,
    seq: img.seq,
    buckets: bucketRows(img.buckets),
    dedup: dedupRows(img.dedup),
  })
}

/**
 * The same text as encodeSnapshot, built `sliceRows` rows at a time with
 * `pause()` awaited between slices, so a large state (a million buckets take
 * seconds) never blocks the event loop for long. The image must not change
 * meanwhile: state-machine.ts hands over copies of its bucket and request-id columns.
 */
export async function encodeSnapshotInSlices(img: StateImage, sliceRows: number, pause: () => Promise<void>): Promise<string> {
  const parts: string[] = [`{"v":${VERSION},"lastStamp":${JSON.stringify(img.lastStamp)},"seq":${JSON.stringify(img.seq)},"buckets":[`]
  const rows = async (count: number, rowText: (i: number) => string): Promise<void> => {
    for (let i = 0; i < count; i += sliceRows) {
      if (i > 0) await pause()
      const text: string[] = []
      for (let r = i; r < Math.min(count, i + sliceRows); r++) text.push(rowText(r))
      parts.push((i > 0 ? ',' : '') + text.join(','))
    }
  }
  await rows(img.buckets.count, (i) => bucketRowText(img.buckets, i))
  parts.push('],"dedup":[')
  await rows(img.dedup.count, (i) => JSON.stringify(dedupRow(img.dedup.entry(i))))
  parts.push(']}')
  return parts.join('')
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
  readonly version: 1 | 2
  readonly lastStamp: number
  readonly seq: number
}

/** The scalar fields of a parsed snapshot object (or of its header alone). */
export function decodeHeader(o: Record<string, unknown>): SnapshotHeader {
  const version = o['v']
  if (version !== 1 && version !== VERSION) invalidSnapshot(`unsupported version ${String(version)}`)
  const lastStamp = int(o['lastStamp'], 0, MAX_STAMP, 'lastStamp')
  const seq = version === 1 ? 0 : int(o['seq'], 0, Number.MAX_SAFE_INTEGER, 'seq')
  return { version, lastStamp, seq }
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

function parseSnapshotJson(s: string): unknown {
  try {
    return JSON.parse(s)
  } catch {
    invalidSnapshot('not JSON')
  }
}

export function decodeSnapshot(s: string): StateImage {
  const raw = parseSnapshotJson(s)
  if (typeof raw !== 'object' || raw === null) invalidSnapshot('expected an object')
  const o = raw as Record<string, unknown>
  const header = decodeHeader(o)
  const rows = o['buckets']
  const dedupList = o['dedup']
  if (!Array.isArray(rows) || !Array.isArray(dedupList)) invalidSnapshot('buckets and dedup must be arrays')

  const builder = new BucketColumnsBuilder(rows.length)
  for (const row of rows) builder.push(...decodeBucketRow(row, header.lastStamp))
  const buckets = builder.build()
  if (new Set(buckets.keys).size !== buckets.count) invalidSnapshot('duplicate bucket key')

  const dedupDecoder = new DedupRowDecoder(header)
  const dedup = dedupRowsOf(dedupList.map((row) => dedupDecoder.decode(row)))
  return { lastStamp: header.lastStamp, seq: header.seq, buckets, dedup }
}
