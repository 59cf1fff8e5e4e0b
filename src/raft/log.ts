// The in-memory view of the replicated log, with the three watermarks the core
// needs to honour the Ready contract: what has been handed out for writing
// (`unstableFrom`), what is durable (`persisted`) and what has been handed out
// for applying (`applied`). Entries up to `offset` live in a snapshot, not here.
import { decodeConfig } from './config.js'
import type { ClusterConfig, Entry, SnapshotMeta } from './types.js'

interface ConfAt {
  readonly index: number
  readonly config: ClusterConfig
}

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
  /** The configuration at `offset`: the snapshot's, or the initial one. */
  private baseConfig: ClusterConfig
  /** Every 'config' entry after `offset`, oldest first; the last one is in effect. */
  private confs: ConfAt[] = []

  constructor(
    restored: readonly Entry[],
    commit: number,
    snapshot: SnapshotMeta | null,
    private readonly initialConfig: ClusterConfig,
  ) {
    this.offset = snapshot?.index ?? 0
    this.offsetTerm = snapshot?.term ?? 0
    this.baseConfig = snapshot?.config ?? initialConfig
    const first = restored[0]
    if (first !== undefined && first.index !== this.offset + 1) {
      throw new Error(`raft: log starts at ${first.index}, expected ${this.offset + 1} after the snapshot`)
    }
    this.entries = restored.slice()
    for (const e of this.entries) this.noteConfig(e)
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
    for (const e of entries) {
      this.entries.push(e)
      this.noteConfig(e)
    }
  }

  /** The configuration in effect: the latest in the log, committed or not (thesis §4.1). */
  config(): ClusterConfig {
    return this.confs[this.confs.length - 1]?.config ?? this.baseConfig
  }

  /** Index of the entry that set the configuration in effect (the snapshot's index, or 0). */
  configIndex(): number {
    return this.confs[this.confs.length - 1]?.index ?? this.offset
  }

  /** The configuration in effect once the log ends at `index`; undefined before the snapshot. */
  configAt(index: number): ClusterConfig | undefined {
    if (index < this.offset) return undefined
    let c = this.baseConfig
    for (const x of this.confs) {
      if (x.index > index) break
      c = x.config
    }
    return c
  }

  /** The configuration as of the snapshot this log starts after. */
  snapshotConfig(): ClusterConfig {
    return this.baseConfig
  }

  private noteConfig(e: Entry): void {
    if (e.kind !== 'config') return
    const c = decodeConfig(e.data)
    // Entries are checksummed on disk and validated on the wire: this is corruption or a bug.
    if (typeof c === 'string') throw new Error(`raft: bad config entry at ${e.index}: ${c}`)
    this.confs.push({ index: e.index, config: c })
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
    for (; i < entries.length; i++) {
      const e = entries[i] as Entry
      this.entries.push(e)
      this.noteConfig(e)
    }
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
    this.baseConfig = this.configAt(index) ?? this.baseConfig
    this.confs = this.confs.filter((x) => x.index > index)
    this.entries.splice(0, index - this.offset)
    this.offset = index
    this.offsetTerm = term
    return true
  }

  /** Replaces the whole log with a snapshot from the leader: it is committed, and (once restored) applied. */
  restore(snapshot: SnapshotMeta): void {
    this.entries = []
    this.confs = []
    this.baseConfig = snapshot.config ?? this.initialConfig
    this.offset = snapshot.index
    this.offsetTerm = snapshot.term
    this.committed = snapshot.index
    this.applied = snapshot.index
    this.persisted = snapshot.index
    this.unstableFrom = snapshot.index + 1
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.offset - 1
    // A config entry cut away no longer applies: the previous one does again.
    while (this.confs.length > 0 && (this.confs[this.confs.length - 1] as ConfAt).index >= index) this.confs.pop()
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
