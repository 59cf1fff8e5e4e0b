// LogStore without I/O: the reference adapter for tests. Same semantics as
// LevelLogStore; "disk" is a plain object that a new store can reopen.
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../raft/types.js'
import { checkAppend } from './append-rules.js'
import { EMPTY_HARD_STATE, type LoadResult, type LogStore } from './port.js'
import { StorageError } from './storage-error.js'

/** What survives a close: pass the same disk to a new MemoryLogStore to "reopen" it. */
export class MemoryDisk {
  hardState: HardState = EMPTY_HARD_STATE
  /** Contiguous, starting right after `snapshot` (or at index 1). */
  entries: Entry[] = []
  snapshot: Snapshot | null = null
}

export class MemoryLogStore implements LogStore {
  readonly disk: MemoryDisk
  private closed = false

  constructor(disk: MemoryDisk = new MemoryDisk()) {
    this.disk = disk
  }

  // Each call takes effect synchronously and returns an already-settled
  // promise, so calls are durable, and resolve, in the order they were issued.

  load(): Promise<LoadResult> {
    return this.run(() => {
      const entries = this.disk.entries.slice()
      const snapshot = this.disk.snapshot
      const lastIndex = this.lastIndex()
      let hardState = this.disk.hardState
      if (hardState.commit > lastIndex) {
        hardState = { ...hardState, commit: lastIndex }
        this.disk.hardState = hardState
      }
      if (snapshot !== null && hardState.commit < snapshot.index) hardState = { ...hardState, commit: snapshot.index }
      return { hardState, entries, snapshot, corruption: null }
    })
  }

  save(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null = null): Promise<void> {
    return this.run(() => {
      const snapIndex = snapshot?.index ?? this.snapIndex()
      checkAppend(snapshot === null ? this.lastIndex() : snapIndex, entries, snapIndex)
      if (snapshot !== null) {
        this.disk.snapshot = { ...snapshot }
        this.disk.entries = []
      }
      if (hardState !== null) this.disk.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit }
      const first = entries[0]
      if (first === undefined) return
      const stored = this.disk.entries
      // Keep the stored prefix before entries[0], drop the rest, append.
      stored.length = Math.max(0, Math.min(stored.length, first.index - snapIndex - 1))
      for (const e of entries) stored.push({ index: e.index, term: e.term, kind: e.kind, data: e.data })
    })
  }

  async compact(meta: SnapshotMeta, lines: Iterable<string> | AsyncIterable<string>): Promise<void> {
    const text: string[] = []
    for await (const line of lines) {
      if (line.includes('\n')) throw new RangeError('a snapshot line cannot hold a newline')
      text.push(line)
    }
    return this.run(() => {
      const from = this.snapIndex()
      if (meta.index <= from) return
      if (meta.index > this.lastIndex()) {
        throw new StorageError('INVALID_COMPACT', `snapshot at ${meta.index} is past the stored last index ${this.lastIndex()}`)
      }
      this.disk.entries.splice(0, meta.index - from)
      this.disk.snapshot = { ...meta, data: text.join('\n') }
    })
  }

  loadSnapshot(): Promise<Snapshot | null> {
    return this.run(() => this.disk.snapshot)
  }

  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }

  private snapIndex(): number {
    return this.disk.snapshot?.index ?? 0
  }

  private lastIndex(): number {
    return this.snapIndex() + this.disk.entries.length
  }

  private run<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StorageError('CLOSED', 'memory log store is closed'))
    try {
      return Promise.resolve(op())
    } catch (e) {
      return Promise.reject(e)
    }
  }
}
