// LogStore without I/O: the reference adapter for tests. Same semantics as
// LevelLogStore; "disk" is a plain object that a new store can reopen.
import type { Entry, HardState } from '../raft/types.js'
import { checkAppend } from './append-rules.js'
import { EMPTY_HARD_STATE, type LoadResult, type LogStore } from './port.js'
import { StorageError } from './storage-error.js'

/** What survives a close: pass the same disk to a new MemoryLogStore to "reopen" it. */
export class MemoryDisk {
  hardState: HardState = EMPTY_HARD_STATE
  entries: Entry[] = []
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
      const lastIndex = entries[entries.length - 1]?.index ?? 0
      let hardState = this.disk.hardState
      if (hardState.commit > lastIndex) {
        hardState = { ...hardState, commit: lastIndex }
        this.disk.hardState = hardState
      }
      return { hardState, entries, corruption: null }
    })
  }

  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    return this.run(() => {
      const stored = this.disk.entries
      const first = entries[0]
      checkAppend(stored[stored.length - 1]?.index ?? 0, entries)
      if (hardState !== null) this.disk.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit }
      if (first === undefined) return
      const firstStored = stored[0]?.index ?? first.index
      // Keep the stored prefix before entries[0], drop the rest, append.
      stored.length = Math.max(0, Math.min(stored.length, first.index - firstStored))
      for (const e of entries) stored.push({ index: e.index, term: e.term, kind: e.kind, data: e.data })
    })
  }

  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
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
