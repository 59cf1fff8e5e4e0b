// The port through which the node driver persists the Raft log (DESIGN §3).
// Adapters: LevelLogStore (production), MemoryLogStore (reference for tests).
import type { Entry, HardState, RestoredState } from '../raft/types.js'

export interface LoadResult extends RestoredState {
  /** Set when a bad tail was found and truncated; the caller decides how loudly to log it. */
  readonly corruption: null | { readonly index: number; readonly reason: string }
}

export interface LogStore {
  /** At start-up; an empty store gives {term:0,vote:null,commit:0}, []. */
  load(): Promise<LoadResult>
  /**
   * One batch, fsync'd (sync:true): hardState (if not null) + entries.
   * entries[0].index may be <= the stored last index: every stored entry from
   * entries[0].index on is replaced (deleted first, in the same batch).
   * Calls are serialized: a call issued after another is durable after it,
   * even if the caller does not await.
   */
  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void>
  close(): Promise<void>
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 })
