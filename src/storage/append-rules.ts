// Shape checks for save(), shared by both adapters so they reject the same calls.
import type { Entry } from '../raft/types.js'
import { StorageError } from './storage-error.js'

/**
 * Entries must be contiguous and start at most one past the stored last index,
 * otherwise the log would get a hole that load() would later treat as corruption.
 * An empty store accepts any first index >= 1.
 * Returns the new last index (or `lastIndex` unchanged for an empty list).
 */
export function checkAppend(lastIndex: number, entries: readonly Entry[], snapshotIndex = 0): number {
  const first = entries[0]
  if (first === undefined) return lastIndex
  const start = first.index
  if (!Number.isSafeInteger(start) || start < 1 || (lastIndex > 0 && start > lastIndex + 1)) {
    throw new StorageError('INVALID_APPEND', `first entry index ${start} would leave a gap after stored last index ${lastIndex}`)
  }
  if (start <= snapshotIndex) {
    throw new StorageError('INVALID_APPEND', `first entry index ${start} is inside the snapshot (up to ${snapshotIndex})`)
  }
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i] as Entry
    if (e.index !== start + i) {
      throw new StorageError('INVALID_APPEND', `entries are not contiguous: expected index ${start + i}, got ${e.index}`)
    }
  }
  return start + entries.length - 1
}
