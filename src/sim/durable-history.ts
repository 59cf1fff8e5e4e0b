// What a disk has ever durably stored: entries (index and term), snapshots
// and votes. Quorum checks ask it whether a voter had really synced what it
// acknowledged. A later wipe or truncation does not erase the record: the
// question is what the voter had stored when the leader counted it.
import type { Entry, HardState } from '../raft/types.js'

export class DurableHistory {
  private readonly entries = new Set<string>()
  private readonly votes = new Set<string>()
  private snapshotMax = 0

  recordEntries(entries: readonly Entry[]): void {
    for (const e of entries) this.entries.add(`${e.index}:${e.term}`)
  }

  recordSnapshot(index: number): void {
    if (index > this.snapshotMax) this.snapshotMax = index
  }

  recordHardState(hs: HardState): void {
    if (hs.vote !== null) this.votes.add(`${hs.term}:${hs.vote}`)
  }

  /** Entry (index, term) was synced here, or a snapshot covering it (snapshots hold committed state only). */
  held(index: number, term: number): boolean {
    return index <= this.snapshotMax || this.entries.has(`${index}:${term}`)
  }

  votedFor(term: number, candidate: string): boolean {
    return this.votes.has(`${term}:${candidate}`)
  }
}
