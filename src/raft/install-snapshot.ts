// The InstallSnapshot a driver actually sends: the core names a snapshot
// (index and term, no bytes); the driver sends its newest stored one, with that
// snapshot's own position and configuration (never older than the core's).
import type { InstallSnapshot, Snapshot } from './types.js'

export function storedSnapshotMessage(named: InstallSnapshot, stored: Snapshot): InstallSnapshot {
  const m: InstallSnapshot = {
    type: 'snapshot',
    from: named.from,
    to: named.to,
    term: named.term,
    index: stored.index,
    snapTerm: stored.term,
    data: stored.data,
  }
  return stored.config === undefined ? m : { ...m, config: stored.config }
}
