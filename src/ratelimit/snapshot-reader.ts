// Decodes a snapshot image into a sink, a line (a few thousand rows) at a
// time, so restoring a million buckets never holds every row as objects at
// once and, when the caller pauses between lines, never blocks the event loop
// for long. Version-1 and -2 images (one JSON object) are decoded in one go.
import {
  decodeBucketRow,
  decodeHeader,
  decodeLinesHeader,
  DedupRowDecoder,
  invalidSnapshot,
  parseSnapshotJson,
  SNAPSHOT_VERSION,
  type BucketRow,
  type SnapshotHeader,
} from './snapshot.js'
import type { DedupEntry } from './dedup-columns.js'
import { paced } from './paced.js'

export interface SnapshotSink {
  header(h: Pick<SnapshotHeader, 'lastStamp' | 'seq'>): void
  /** Validated, in saved (queue) order. */
  bucket(row: BucketRow): void
  /** Validated, in saved (expiry) order. */
  dedup(entry: DedupEntry): void
}

export function readSnapshot(image: string, sink: SnapshotSink): void {
  for (const _ of lineSteps(image, sink));
}

/** readSnapshot with `pause()` awaited between lines. */
export async function readSnapshotInSlices(image: string, pause: () => Promise<void>, sink: SnapshotSink): Promise<void> {
  for await (const _ of paced(lineSteps(image, sink), pause));
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

function firstLineObject(line: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(line))
  } catch {
    return undefined
  }
}

/** Decodes one line per step. */
function* lineSteps(image: string, sink: SnapshotSink): Generator<void> {
  const firstEnd = image.indexOf('\n')
  const head = firstLineObject(firstEnd < 0 ? image : image.slice(0, firstEnd))
  if (head === undefined || head['v'] !== SNAPSHOT_VERSION) {
    // Versions 1 and 2: one object, maybe laid out over several lines.
    decodeWhole(firstEnd < 0 && head !== undefined ? head : parseSnapshotJson(image), sink)
    return
  }
  const h = decodeLinesHeader(head)
  sink.header(h)
  const dedup = new DedupRowDecoder(h)
  let buckets = h.buckets
  let requestIds = h.dedup
  let at = firstEnd < 0 ? image.length : firstEnd + 1
  while (buckets + requestIds > 0) {
    if (at >= image.length) invalidSnapshot(`the image ends ${buckets + requestIds} rows short of its header's count`)
    const next = image.indexOf('\n', at)
    const end = next < 0 ? image.length : next
    const rows = parseSnapshotJson(image.slice(at, end))
    at = end + 1
    if (!Array.isArray(rows) || rows.length === 0) invalidSnapshot('a line must be a non-empty array of rows')
    if (buckets > 0) {
      if (rows.length > buckets) invalidSnapshot('a line holds more bucket rows than the header counts')
      for (const row of rows) sink.bucket(decodeBucketRow(row, h.lastStamp))
      buckets -= rows.length
    } else {
      if (rows.length > requestIds) invalidSnapshot('a line holds more request-id rows than the header counts')
      for (const row of rows) sink.dedup(dedup.decode(row))
      requestIds -= rows.length
    }
    yield
  }
  if (at < image.length) invalidSnapshot('lines past the rows the header counts')
}

function decodeWhole(raw: unknown, sink: SnapshotSink): void {
  const o = asObject(raw)
  if (o === undefined) invalidSnapshot('expected an object')
  const header = decodeHeader(o)
  if (header.version === SNAPSHOT_VERSION) invalidSnapshot(`a version-${SNAPSHOT_VERSION} image is lines, not one object`)
  const rows = o['buckets']
  const dedupList = o['dedup']
  if (!Array.isArray(rows) || !Array.isArray(dedupList)) invalidSnapshot('buckets and dedup must be arrays')
  sink.header(header)
  for (const row of rows) sink.bucket(decodeBucketRow(row, header.lastStamp))
  const dedup = new DedupRowDecoder(header)
  for (const row of dedupList) sink.dedup(dedup.decode(row))
}
