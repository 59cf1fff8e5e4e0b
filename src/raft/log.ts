// The in-memory view of the replicated log, with the three watermarks the core
// needs to honour the Ready contract: what has been handed out for writing
// (`unstableFrom`), what is durable (`persisted`) and what has been handed out
// for applying (`applied`). Entries up to `offset` live in a snapshot, not here.
import type { Entry, SnapshotMeta } from './types.js'

export class RaftLog {
  private entries: Entry[]
  /** Index of the entry before entries[0]: the snapshot's index (0 without one). */
  private offset: number
  /** Term of the entry at `offset`. */
  private offsetTerm: number
  committed = 0
  applied = 0
  /** Highest index known to be on disk. */
  persisted: number
  /** First index not yet handed to the driver for writing. */
  private unstableFrom: number

  constructor(restored: readonly Entry[], commit: number, snapshot: SnapshotMeta | null = null) {
    this.offset = snapshot?.index ?? 0
    this.offsetTerm = snapshot?.term ?? 0
    const first = restored[0]
    if (first !== undefined && first.index !== this.offset + 1) {
      throw new Error(`raft: log starts at ${first.index}, expected ${this.offset + 1} after the snapshot`)
    }
    this.entries = restored.slice()
    this.persisted = this.lastIndex()
    this.unstableFrom = this.persisted + 1
    // The snapshot is committed and already applied to the restored state machine.
    this.committed = Math.max(this.offset, Math.min(commit, this.persisted))
    this.applied = this.offset
  }

  /** First index held in memory (one past the snapshot). */
  firstIndex(): number {
    return this.offset + 1
  }

  snapshotIndex(): number {
    return this.offset
  }

  lastIndex(): number {
    return this.offset + this.entries.length
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0
  }

  /** The term of the entry at `index` (the snapshot's term at its index), undefined if compacted or past the end. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm
    if (index < this.offset || index > this.lastIndex()) return undefined
    return this.entries[index - this.offset - 1]?.term
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm()
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex())
  }

  /** Entries [lo, hi). */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset - 1, hi - this.offset - 1)
  }

  /** Leader append at the end of the log. */
  append(entries: readonly Entry[]): void {
    for (const e of entries) this.entries.push(e)
  }

  /**
   * Follower append after a successful prevIndex/prevTerm match. Returns the
   * index of the last new entry. Only a conflicting suffix is replaced, so a
   * stale or duplicated AppendEntries never truncates entries we already have.
   */
  appendAfterMatch(prevIndex: number, entries: readonly Entry[]): number {
    let i = 0
    while (i < entries.length) {
      const e = entries[i] as Entry
      const t = this.term(e.index)
      if (t === undefined) break
      if (t !== e.term) {
        if (e.index <= this.committed) {
          throw new Error(`raft: conflict at committed index ${e.index} (committed ${this.committed})`)
        }
        this.truncateFrom(e.index)
        break
      }
      i++
    }
    for (; i < entries.length; i++) this.entries.push(entries[i] as Entry)
    return prevIndex + entries.length
  }

  /**
   * Drops entries up to `index`, which a durable snapshot now covers. Only
   * applied entries may go: the state machine holds their effect.
   */
  compact(index: number): boolean {
    if (index <= this.offset || index > this.applied) return false
    const term = this.term(index)
    if (term === undefined) return false
    this.entries.splice(0, index - this.offset)
    this.offset = index
    this.offsetTerm = term
    return true
  }

  /** Replaces the whole log with a snapshot from the leader: it is committed, and (once restored) applied. */
  restore(snapshot: SnapshotMeta): void {
    this.entries = []
    this.offset = snapshot.index
    this.offsetTerm = snapshot.term
    this.committed = snapshot.index
    this.applied = snapshot.index
    this.persisted = snapshot.index
    this.unstableFrom = snapshot.index + 1
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.offset - 1
    if (this.unstableFrom > index) this.unstableFrom = index
    if (this.persisted >= index) this.persisted = index - 1
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where a leader and a
   * follower can next try to agree, skipping a whole conflicting term at once.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex())
    while (i > this.offset) {
      const t = this.term(i)
      if (t !== undefined && t <= term) break
      i--
    }
    return i
  }

  /** Entries the driver has not been given for writing yet; marks them handed out. */
  takeUnstable(): Entry[] {
    if (this.unstableFrom > this.lastIndex()) return []
    const out = this.slice(this.unstableFrom, this.lastIndex() + 1)
    this.unstableFrom = this.lastIndex() + 1
    return out
  }

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex()
  }

  /** A write of entries up to (index, term) completed; ignore it if that entry was replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (index > this.persisted && this.term(index) === term && index < this.unstableFrom) {
      this.persisted = index
    }
  }

  commitTo(index: number): boolean {
    const target = Math.min(index, this.lastIndex())
    if (target <= this.committed) return false
    this.committed = target
    return true
  }

  hasNextCommitted(): boolean {
    return Math.min(this.committed, this.persisted) > this.applied
  }

  /** Committed entries that are durable here and not yet handed out for applying. */
  takeCommitted(): Entry[] {
    const hi = Math.min(this.committed, this.persisted)
    if (hi <= this.applied) return []
    const out = this.slice(this.applied + 1, hi + 1)
    this.applied = hi
    return out
  }
}
