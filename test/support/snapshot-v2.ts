// The version-2 text (one JSON object, as the encoder wrote it before images
// became lines) of a version-3 image: tests pinned to digests of v2 texts keep
// checking the same content.
export function asVersion2(image: string): string {
  const [head, ...lines] = image.split('\n').map((line) => JSON.parse(line) as unknown)
  const h = head as { v: number; lastStamp: number; seq: number; buckets: number }
  if (h.v !== 3) throw new Error(`expected a version-3 image, got version ${h.v}`)
  const rows = (lines as unknown[][]).flat()
  return JSON.stringify({ v: 2, lastStamp: h.lastStamp, seq: h.seq, buckets: rows.slice(0, h.buckets), dedup: rows.slice(h.buckets) })
}
