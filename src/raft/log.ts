// The in-memory view of the replicated log, with the three watermarks the core
// needs to honour the Ready contract: what has been handed out for writing
// (`unstableFrom`), what is durable (`persisted`) and what has been handed out
// for applying (`applied`).
import type { Entry } from './types.js'

export class RaftLog {
  private readonly entries: Entry[]
  /** Index of the entry before entries[0] (a future snapshot's index; 0 for now). */
  private readonly offset = 0
  committed = 0
  applied = 0
  /** Highest index known to be on disk. */
  persisted: number
  /** First index not yet handed to the driver for writing. */
  private unstableFrom: number

  constructor(restored: readonly Entry[], commit: number) {
    this.entries = restored.slice()
    this.persisted = this.lastIndex()
    this.unstableFrom = this.persisted + 1
    this.committed = Math.min(commit, this.persisted)
  }

  lastIndex(): number {
    return this.offset + this.entries.length
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0
  }

  /** The term of the entry at `index`, 0 before the log starts, undefined past its end. */
  term(index: number): number | undefined {
    if (index === this.offset) return 0
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
