// Shared shapes of the simulator: its configuration, the driver's broken
// variant, crash points, client request/response, and the violation error.
import type { Bug, RaftConfig } from '../raft/types.js'
import type { Policy } from '../ratelimit/policy.js'
import type { TraceMode } from './trace.js'

/**
 * Deliberately broken drivers, to show the checks catch them:
 * - apply_reads_local_clock: apply uses the replica's clock instead of the command's stamp;
 * - messages_wait_for_disk: a Ready's `messages` wait for its write (heartbeats blocked behind a slow disk);
 * - snapshot_not_restored: a received snapshot is stored but the state machine is not replaced by it.
 */
export type SimBug = 'apply_reads_local_clock' | 'messages_wait_for_disk' | 'snapshot_not_restored'
export const SIM_BUGS: readonly SimBug[] = ['apply_reads_local_clock', 'messages_wait_for_disk', 'snapshot_not_restored']
export const RAFT_BUGS: readonly Bug[] = [
  'commit_previous_term_by_counting',
  'vote_not_persisted_before_reply',
  'append_acked_before_sync',
  'follower_reads_locally',
  'overlapping_conf_changes',
]
export type AnyBug = Bug | SimBug

/**
 * Where an armed node crashes while persisting a Ready:
 * - before-*: the Ready is taken and its `messages` sent, but its write never reaches disk;
 * - after-*: the write is synced, then the node dies before persistedMessages/advance/apply.
 * `vote` matches a Ready whose hard state grants a vote to another node.
 */
export type CrashPoint =
  | 'before-hardstate-write'
  | 'after-hardstate-write'
  | 'before-entries-write'
  | 'after-entries-write'
  | 'before-vote-write'
export const CRASH_POINTS: readonly CrashPoint[] = [
  'before-hardstate-write',
  'after-hardstate-write',
  'before-entries-write',
  'after-entries-write',
  'before-vote-write',
]

/** The core's tuning, taken from RaftConfig so the two cannot drift apart. */
type CoreTuning = Pick<
  RaftConfig,
  'electionTicks' | 'heartbeatTicks' | 'maxInflight' | 'maxBatchEntries' | 'preVote' | 'checkQuorum' | 'snapshotTimeoutTicks' | 'spareBatchEntries'
>

export interface SimConfig extends CoreTuning {
  readonly seed: number
  /** Voters of the initial configuration. */
  readonly nodes: number
  /** Extra nodes outside the initial configuration, started as joining nodes (ids after the voters'). */
  readonly spares: number
  readonly scenario: string
  readonly bugs: readonly AnyBug[]
  readonly trace: TraceMode

  // Raft timing (virtual ms).
  readonly tickMs: number

  // Environment.
  readonly netDelay: readonly [number, number]
  readonly clientDelay: readonly [number, number]
  readonly diskLatency: readonly [number, number]
  /** Initial per-node clock offset is drawn from [-maxSkewMs, maxSkewMs]. */
  readonly maxSkewMs: number
  /** Clients issue operations (and random faults happen) during [0, workloadMs). */
  readonly workloadMs: number
  /** After healing: time to settle before the final checks. */
  readonly settleMs: number
  /** Random faults of the generic schedule; scenarios set their own. */
  readonly randomFaults: boolean

  // Workload.
  readonly clients: number
  readonly keys: readonly string[]
  readonly maxCost: number
  readonly checkRatio: number
  readonly thinkMs: readonly [number, number]
  readonly attemptTimeoutMs: number
  readonly opDeadlineMs: number
  readonly policy: Policy
  /** Increments a leader receives at one instant share a log entry, up to this many (the node's turn batching). */
  readonly maxItemsPerEntry: number
  /** How long a leader gathers increments before proposing them (0: those arriving at the same instant). */
  readonly proposeBatchMs: number
  /** Request-id memory of the state machine, in log time (production: 10 min). */
  readonly dedupTtlMs: number
  /**
   * ...and in applies (production: 100,000). With 0, a +1 h leader clock jump
   * forgets every id and a retry spends twice (test/sim/environment.test.ts).
   */
  readonly dedupMinApplies: number
  /** Applied entries after a node's last snapshot that make it take the next one and compact (0: never). */
  readonly snapshotEvery: number
  /** Model-step budget per key for the linearizability search. */
  readonly linearizabilitySteps: number
}

/** What a node answers a client (or a follower that forwarded). */
export type Reply =
  | { readonly ok: true; readonly admitted: boolean; readonly remaining: number; readonly stamp: number }
  | { readonly ok: false; readonly error: 'no_leader' | 'not_leader' | 'read_dropped' }

export interface IncrementRequest {
  readonly key: string
  readonly cost: number
  readonly requestId: string
}

/** An invariant broke; `invariant` is a stable short name. */
export class SimViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`)
    this.name = 'SimViolation'
  }
}
