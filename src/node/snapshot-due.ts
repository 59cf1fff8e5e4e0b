// When the driver takes a local snapshot and compacts the log. A snapshot
// encodes every bucket and request id, so its cost (CPU, a transient copy of
// the image, a disk write) grows with the state. Waiting until the log since
// the last snapshot holds a fixed fraction of the state's record count keeps
// that cost proportional to the entries it retires (at most
// LOG_SHARE_OF_STATE encoded records per retired entry), while bounding the
// in-memory log by a quarter of the state instead of all of it: at a million
// buckets that is ~250k entries (~45 MB) rather than ~1M (~170 MB).
// Snapshot encoding runs between event-loop turns, so taking one 4x as often
// costs throughput, not latency.

/** Log entries needed per state record before a snapshot is worth its cost. */
export const LOG_SHARE_OF_STATE = 1 / 4

export function snapshotDue(entriesSinceSnapshot: number, snapshotEntries: number, stateRecords: number): boolean {
  return entriesSinceSnapshot >= Math.max(snapshotEntries, Math.ceil(stateRecords * LOG_SHARE_OF_STATE))
}
