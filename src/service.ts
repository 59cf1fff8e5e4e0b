// The port the HTTP layer calls. The node driver implements it; HTTP tests use a fake.
import type { ConfChange, NodeId, RaftStatus } from './raft/types.js'

export interface IncrementInput {
  readonly clientId: string
  readonly cost: number
  readonly requestId?: string
}

/** One token-bucket answer, as the rate routes report it. */
export interface RateDecision {
  /** true: admitted (increment) or would be admitted at cost 1 (check). */
  readonly result: boolean
  /** Whole tokens left after this operation. */
  readonly remaining: number
  /** Bucket capacity (RATE_LIMIT_BURST). */
  readonly limit: number
  /** Tokens refilled per window (RATE_LIMIT). */
  readonly refill: number
  readonly windowSec: number
  /** Seconds until the bucket is full again. */
  readonly resetSec: number
  /** Seconds until a request of this cost would be admitted; 0 when admitted. */
  readonly retryAfterSec: number
}

export interface ClusterStatus {
  readonly node: NodeId
  readonly raft: RaftStatus
  readonly leaderAddress: string | null
  readonly ready: boolean
  /** Buckets held (full ones are not) and request ids remembered. */
  readonly buckets: number
  readonly requestIds: number
  /** Hash of the state machine at raft.applied; only when asked for (it walks the whole state). */
  readonly stateHash?: string
}

/** Where leadership went after a transfer. */
export interface TransferResult {
  readonly leader: NodeId
  readonly term: number
}

/** The configuration once a membership change has committed. */
export interface MembershipResult {
  /** Log index of the change. */
  readonly index: number
  readonly voters: readonly NodeId[]
  readonly learners: readonly NodeId[]
}

export interface RateLimiterService {
  /** Rejects with RateLimiterError (NO_LEADER, NO_QUORUM, SHUTTING_DOWN, INVALID_COST...). */
  increment(input: IncrementInput): Promise<RateDecision>
  /** Linearizable: reflects every increment acknowledged before it was called. Consumes nothing. */
  check(clientId: string): Promise<RateDecision>
  status(opts?: { readonly hash?: boolean }): ClusterStatus
  /**
   * Hands leadership to `to` (or the most caught-up peer) and waits until
   * another node leads. Rejects with NOT_LEADER, UNKNOWN_NODE or TRANSFER_FAILED.
   */
  transferLeadership(to: NodeId | undefined): Promise<TransferResult>
  /**
   * One single-server change on the leader (add a learner at an address,
   * promote a caught-up learner, remove a member), answered once committed.
   * Rejects with NOT_LEADER, MEMBER_EXISTS, NOT_MEMBER, NOT_LEARNER, LAST_VOTER,
   * CHANGE_IN_PROGRESS, LEARNER_BEHIND, INVALID_ADDRESS or CHANGE_FAILED.
   */
  changeMembership(change: ConfChange): Promise<MembershipResult>
  /** Ready once a leader is known and the local log is applied up to the commit index. */
  isReady(): boolean
  /** The burst, so the HTTP layer can reject cost above it with 400. */
  readonly burst: number
}
