// The port through which the node driver persists the Raft log (DESIGN §3).
// Adapters: LevelLogStore (production), MemoryLogStore (reference for tests).
import type { Entry, HardState, RestoredState, Snapshot, SnapshotMeta } from '../raft/types.js'

export interface LoadResult extends RestoredState {
  /** The stored snapshot (`entries` continue right after it), or null. */
  readonly snapshot: Snapshot | null
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
  save(hardState: HardState | null, entries: readonly Entry[], snapshot?: Snapshot | null): Promise<void>
  /**
   * Stores a snapshot at `meta` whose image is `lines` (its data is the lines
   * joined by "\n"; a line holds no newline) and deletes every entry up to
   * its index, in one synced batch once every line is written. Lines are
   * taken one at a time as they come, so the image need never be whole in
   * memory, and other calls may run between them. A snapshot not newer than
   * the stored one is ignored. The log must reach meta.index (only applied
   * entries are compacted).
   * With a `snapshot` argument, save() instead replaces the whole log: every
   * stored entry goes, `entries` (if any) must start at snapshot.index + 1.
   */
  compact(meta: SnapshotMeta, lines: Iterable<string> | AsyncIterable<string>): Promise<void>
  /** The stored snapshot, for sending to a follower; null before the first one. */
  loadSnapshot(): Promise<Snapshot | null>
  close(): Promise<void>
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 })
