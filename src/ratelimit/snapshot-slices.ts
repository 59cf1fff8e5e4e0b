// Decodes a snapshot a slice of rows at a time, awaiting `pause()` between
// slices, so restoring a million buckets never blocks the event loop for
// long (one JSON.parse of the whole image takes seconds and holds every row
// as objects at once). The text encodeSnapshot writes is
//   {"v":2,"lastStamp":L,"seq":S,"buckets":[ROWS],"dedup":[ROWS]}
// and `],"dedup":[` cannot occur inside a JSON string (its quotes would be
// escaped), so it marks where the bucket rows end. Any other layout of valid
// JSON is decoded in one go, exactly as decodeSnapshot does.
import { bucketAt, keyAt } from './bucket-columns.js'
import type { DedupEntry } from './dedup-columns.js'
import { endOfElements, parseElements } from './json-rows.js'
import {
  decodeBucketRow,
  decodeHeader,
  decodeSnapshot,
  DedupRowDecoder,
  invalidSnapshot,
  type BucketRow,
  type SnapshotHeader,
} from './snapshot.js'

export interface SnapshotSink {
  header(h: Pick<SnapshotHeader, 'lastStamp' | 'seq'>): void
  /** Validated, in saved (queue) order. */
  bucket(row: BucketRow): void
  /** Validated, in saved (expiry) order. */
  dedup(entry: DedupEntry): void
}

const BUCKETS_OPEN = ',"buckets":['
const DEDUP_OPEN = '],"dedup":['
const END = ']}'
const HEADER_FIELDS = new Set(['v', 'lastStamp', 'seq'])

export async function decodeSnapshotInSlices(s: string, sliceRows: number, pause: () => Promise<void>, sink: SnapshotSink): Promise<void> {
  const layout = canonicalLayout(s)
  if (layout === undefined) return decodeAtOnce(s, sink)
  sink.header(layout.header)
  const rows = async (from: number, to: number, each: (row: unknown) => void): Promise<void> => {
    for (let at = from; at < to; ) {
      if (at > from) await pause()
      const end = endOfElements(s, at, to, sliceRows)
      let slice: unknown[]
      try {
        slice = parseElements(s, at, end, at === from)
      } catch {
        invalidSnapshot('not JSON')
      }
      for (const row of slice) each(row)
      at = end
    }
  }
  const lastStamp = layout.header.lastStamp
  await rows(layout.buckets[0], layout.buckets[1], (row) => sink.bucket(decodeBucketRow(row, lastStamp)))
  const dedup = new DedupRowDecoder(layout.header)
  await rows(layout.dedup[0], layout.dedup[1], (row) => sink.dedup(dedup.decode(row)))
}

interface Layout {
  readonly header: SnapshotHeader
  /** [from, to) of the rows inside each array's brackets. */
  readonly buckets: readonly [number, number]
  readonly dedup: readonly [number, number]
}

function canonicalLayout(s: string): Layout | undefined {
  const bucketsAt = s.indexOf(BUCKETS_OPEN)
  const dedupAt = s.indexOf(DEDUP_OPEN)
  if (!s.startsWith('{') || !s.endsWith(END) || bucketsAt < 0 || dedupAt < bucketsAt) return undefined
  let head: unknown
  try {
    head = JSON.parse(`${s.slice(0, bucketsAt)}}`)
  } catch {
    return undefined
  }
  if (typeof head !== 'object' || head === null || !Object.keys(head).every((k) => HEADER_FIELDS.has(k))) return undefined
  return {
    header: decodeHeader(head as Record<string, unknown>),
    buckets: [bucketsAt + BUCKETS_OPEN.length, dedupAt],
    dedup: [dedupAt + DEDUP_OPEN.length, s.length - END.length],
  }
}

function decodeAtOnce(s: string, sink: SnapshotSink): void {
  const img = decodeSnapshot(s)
  sink.header({ lastStamp: img.lastStamp, seq: img.seq })
  for (let i = 0; i < img.buckets.count; i++) {
    const b = bucketAt(img.buckets, i)
    sink.bucket([keyAt(img.buckets, i), b.level, b.stamp, b.windowMs, b.fullAt])
  }
  for (let i = 0; i < img.dedup.count; i++) sink.dedup(img.dedup.entry(i))
}
