// Timestamps of each step of a replication round, for `npm run bench:rounds`:
// when an append left the leader, reached a follower, was written there, and
// when the answer came back. Recorded by the driver (and, inside a write, by
// the log store) only when a tracer is given (ROUND_TRACE_DIR); the core
// never sees it.
import type { NodeId } from '../raft/types.js'

export const ROUND_EVENTS = [
  'append_sent',
  'append_received',
  'write_started',
  'batch_handed',
  'batch_synced',
  'write_done',
  'answer_sent',
  'answer_received',
  'applied',
  'snapshot_started',
  'snapshot_done',
  'gc_minor',
  'gc_major',
  'loop_blocked',
] as const

/**
 * - append_sent / append_received: an AppendEntries with entries, `index` its last entry;
 * - write_started / write_done: one synced write, `index` the last entry it stores (0: none);
 * - batch_handed / batch_synced: inside that write, the store handed its batch to LevelDB, and LevelDB's synced write returned;
 * - answer_sent / answer_received: a successful AppendEntries answer, `index` the index it acknowledges;
 * - applied: committed entries applied, `index` the last;
 * - snapshot_started / snapshot_done: a local snapshot and log compaction, `index` its last entry;
 * - gc_minor / gc_major: a garbage-collection pause (a scavenge; anything else), at its start, `index` its length in µs;
 * - loop_blocked: the event loop ran no timer for over 2 ms past when one was due, from then, `index` how long in µs.
 */
export type RoundEvent = (typeof ROUND_EVENTS)[number]

export interface RoundTracer {
  /** `peer` is the other end of a message, '' for a local step. */
  record(event: RoundEvent, peer: NodeId | '', index: number): void
}
