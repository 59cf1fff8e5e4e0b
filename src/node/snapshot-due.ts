// When the driver takes a local snapshot and compacts the log. A snapshot
// encodes every bucket and request id, so its cost (CPU, a transient copy of
// the image, a disk write) grows with the state. Waiting until the log since
// the last snapshot holds a fixed fraction of the state's record count keeps
// that cost proportional to the records it retires (at most 1 /
// LOG_SHARE_OF_STATE encoded state records per retired log record), while
// bounding the in-memory log by half the state instead of all of it.
// The log is measured in records (increments; an entry carries a batch of
// them), not entries, so how requests were batched changes neither bound.
// Half rather than a quarter since entries carry batches: a logged increment
// now costs a share of one entry, and at a million buckets every snapshot
// costs each node seconds of CPU, which a loaded cluster feels as a slower
// stretch and a p99 spike (`npm run bench:keys`), so it should come rarely.

/** Log records needed per state record before a snapshot is worth its cost. */
export const LOG_SHARE_OF_STATE = 1 / 2

export function snapshotDue(logRecordsSinceSnapshot: number, snapshotEntries: number, stateRecords: number): boolean {
  return logRecordsSinceSnapshot >= Math.max(snapshotEntries, Math.ceil(stateRecords * LOG_SHARE_OF_STATE))
}
