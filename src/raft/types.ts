// Types shared by the consensus core and the adapters that drive it.
// Nothing here may import node:*, timers, Date or Math.random (DESIGN §1).

export type NodeId = string

/**
 * `noop` is appended by every new leader so it can commit entries of earlier terms (Raft §5.4.2).
 * `config` carries a whole new cluster configuration (see config.ts); it takes effect as soon as
 * it is in a node's log, committed or not (thesis §4.1).
 */
export type EntryKind = 'noop' | 'cmd' | 'config'

/** Who votes and who only receives the log. */
export interface ClusterConfig {
  readonly voters: readonly NodeId[]
  readonly learners: readonly NodeId[]
  /**
   * Where each member can be reached, when the driver supplies addresses:
   * then every member has one. Opaque to the core, which only carries it, so
   * that every node learns a new member's address from the log itself.
   */
  readonly addresses?: Readonly<Record<NodeId, string>>
}

/** One single-server membership change (thesis §4.1). */
export interface ConfChange {
  readonly type: 'add_learner' | 'promote' | 'remove'
  readonly id: NodeId
  /** The new member's address (add_learner; required when the configuration has addresses). */
  readonly address?: string
}

export type ConfChangeRefusal =
  | 'not_leader'
  | 'transferring'
  /** A config entry is in the log but not committed yet: one change at a time. */
  | 'change_pending'
  /** The leader has not committed an entry of its own term yet (thesis §4.1 bug fix). */
  | 'not_committed_in_term'
  | 'already_member'
  | 'not_learner'
  /** The learner joined with `rejoin` and has not caught up yet: as a voter it would refuse every vote. */
  | 'learner_rejoining'
  | 'not_member'
  | 'no_voters'
  /** add_learner without an address, in a configuration that has them. */
  | 'address_required'

export type ConfChangeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: ConfChangeRefusal; readonly leader: NodeId | null }

export interface Entry {
  readonly index: number
  readonly term: number
  readonly kind: EntryKind
  /** Opaque to the core; the state machine's encoded command. Empty for `noop`. */
  readonly data: string
}

/** What must be on disk before any message that depends on it leaves the node. */
export interface HardState {
  readonly term: number
  readonly vote: NodeId | null
  readonly commit: number
}

interface Envelope {
  readonly from: NodeId
  readonly to: NodeId
  readonly term: number
}

export type VoteRequest = Envelope & {
  readonly type: 'prevote' | 'vote'
  readonly lastIndex: number
  readonly lastTerm: number
  /** Set when the leader handed over leadership: voters skip the CheckQuorum lease. */
  readonly transfer?: boolean
}
export type VoteResponse = Envelope & { readonly type: 'prevote_resp' | 'vote_resp'; readonly reject: boolean }
export type AppendRequest = Envelope & {
  readonly type: 'append'
  readonly prevIndex: number
  readonly prevTerm: number
  readonly entries: readonly Entry[]
  readonly commit: number
}
/**
 * On success `index` is the follower's last index matching the leader.
 * On reject `index` is the rejected prevIndex and (hintIndex, hintTerm) let the
 * leader skip a whole term of conflicting entries in one round trip.
 */
export type AppendResponse = Envelope & {
  readonly type: 'append_resp'
  readonly reject: boolean
  readonly index: number
  readonly hintIndex: number
  readonly hintTerm: number
}
/** `readSeq` confirms leadership for every ReadIndex request up to that sequence number. */
export type Heartbeat = Envelope & { readonly type: 'heartbeat'; readonly commit: number; readonly readSeq: number }
export type HeartbeatResponse = Envelope & { readonly type: 'heartbeat_resp'; readonly readSeq: number }
/** A follower asking the leader for a read index on behalf of its own clients. */
export type ReadIndexRequest = Envelope & { readonly type: 'read_index'; readonly ctx: string }
export type ReadIndexResponse = Envelope & {
  readonly type: 'read_index_resp'
  readonly ctx: string
  readonly index: number
  readonly reject: boolean
}

/** Leadership transfer: the leader tells a caught-up follower to campaign at once. */
export type TimeoutNow = Envelope & { readonly type: 'timeout_now' }

/**
 * InstallSnapshot (Raft §7): the leader no longer has the entries a follower
 * needs. The core holds no snapshot bytes, so the leader's core sends it with
 * `data: ''`; the driver sends the newest stored snapshot instead (its own
 * index and term, never older than the core's) in chunks, and the receiving
 * driver steps the whole message once every chunk has arrived.
 */
export type InstallSnapshot = Envelope & {
  readonly type: 'snapshot'
  readonly index: number
  readonly snapTerm: number
  readonly data: string
  /** The configuration as of `index` (the driver sends its stored snapshot's). */
  readonly config?: ClusterConfig
}

export type Message =
  | TimeoutNow
  | InstallSnapshot
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | ReadIndexRequest
  | ReadIndexResponse

export type MessageType = Message['type']

/** The last entry a snapshot covers: everything up to it is in the snapshot, not the log. */
export interface SnapshotMeta {
  readonly index: number
  readonly term: number
  /** The configuration in effect at `index` (absent: RaftConfig's initial one). */
  readonly config?: ClusterConfig
}

/** A state-machine image and the log position it was taken at. `data` is opaque to the core. */
export interface Snapshot extends SnapshotMeta {
  readonly data: string
}

/** A linearizable read may be served once the local applied index reaches `index`. */
export interface ReadState {
  readonly ctx: string
  readonly index: number
}

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader'

/**
 * One round of work for the driver. Ordering contract:
 * 1. `messages` may be sent at once (a leader's AppendEntries go out while its own write is in flight, thesis §10.2.1);
 * 2. `snapshot` (if not null), `hardState` (if not null) and `entries` are written in ONE synced batch, after
 *    every earlier Ready's batch; `entries[0].index` may be at or below the stored last index: everything stored
 *    from there on is replaced. A snapshot replaces the whole stored log and the state machine (restore it before
 *    applying any later committed entry; it may be restored at once, it is committed data);
 * 3. only then `persistedMessages` are sent and `advance(ready)` is called;
 * 4. `committed` entries are already durable locally and are applied in order, at once.
 */
export interface Ready {
  /** A snapshot received from the leader, to store and restore (followers only). */
  readonly snapshot: Snapshot | null
  readonly hardState: HardState | null
  readonly entries: readonly Entry[]
  readonly messages: readonly Message[]
  readonly persistedMessages: readonly Message[]
  readonly committed: readonly Entry[]
  readonly readStates: readonly ReadState[]
  /** ReadIndex contexts that cannot be served (no leader known, or leadership lost). */
  readonly droppedReads: readonly string[]
}

export type ProposeResult =
  | { readonly ok: true; readonly firstIndex: number; readonly term: number }
  | { readonly ok: false; readonly leader: NodeId | null }

/** `snapshot`: an InstallSnapshot is on its way; nothing else is sent until it is answered or reported failed. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export interface PeerProgress {
  readonly id: NodeId
  readonly match: number
  readonly next: number
  readonly state: ProgressState
  readonly inflight: number
  readonly recentActive: boolean
  /** In snapshot state: the index of the snapshot being sent. */
  readonly pendingSnapshot?: number
  /** Present (true) while it has asked this leader for its catch-up target after `rejoin` and not yet caught up to it. */
  readonly rejoining?: true
}

export interface RaftStatus {
  readonly id: NodeId
  readonly role: Role
  readonly term: number
  readonly vote: NodeId | null
  readonly leader: NodeId | null
  readonly commit: number
  readonly applied: number
  /** First index still in the log; entries before it are in the snapshot. */
  readonly firstIndex: number
  readonly lastIndex: number
  readonly persistedIndex: number
  /** Index of the newest snapshot this node's log starts after (0 before any). */
  readonly snapshotIndex: number
  /** The configuration in effect here (the latest in the log, committed or not). */
  readonly voters: readonly NodeId[]
  readonly learners: readonly NodeId[]
  /** Present on the leader only (learners included). */
  readonly progress: readonly PeerProgress[]
  /** The follower leadership is being handed to, on the leader during a transfer. */
  readonly transferringTo?: NodeId
}

/** Deliberately broken behaviours, switched on only by tests that prove the checks catch them. */
export type Bug =
  | 'commit_previous_term_by_counting'
  | 'vote_not_persisted_before_reply'
  | 'append_acked_before_sync'
  | 'follower_reads_locally'
  /** proposeConfChange skips the one-change-at-a-time check. */
  | 'overlapping_conf_changes'
  /** proposeConfChange promotes a learner the leader knows is still catching up after `rejoin`. */
  | 'promote_rejoining_learner'

export interface RaftConfig {
  readonly id: NodeId
  /**
   * The initial voters, used until the log or snapshot holds a configuration.
   * This node is among them, or among `learners` (a node joining a running cluster).
   */
  readonly voters: readonly NodeId[]
  /** Initial learners (default none). */
  readonly learners?: readonly NodeId[]
  /** Initial members' addresses (see ClusterConfig.addresses). */
  readonly addresses?: Readonly<Record<NodeId, string>>
  /** Election timeout is drawn uniformly from [electionTicks, 2*electionTicks). */
  readonly electionTicks: number
  readonly heartbeatTicks: number
  /**
   * Max AppendEntries messages in flight per follower in replicate state, used
   * while it lags by a full message (maxBatchEntries) or more; a follower that
   * is caught up gets one at a time (Progress.window).
   */
  readonly maxInflight: number
  /** Max entries in one AppendEntries message. */
  readonly maxBatchEntries: number
  /**
   * Max characters of entry data in one AppendEntries message (one entry is
   * always sent, however large). Default: no limit beyond maxBatchEntries.
   */
  readonly maxBatchChars?: number
  /**
   * A commit needs the answers of quorum-1 followers (the leader counts
   * itself). With this set, the leader sends new entries at once only to the
   * followers it needs, the ones that have answered promptly; the others
   * ("spares") get them once they lag by this many entries, at each tick, or
   * when they ask for a read index. A spare does the same work in fewer,
   * larger writes, and takes over the moment a needed follower keeps the
   * leader waiting through a tick. Default 0: every follower gets every
   * append as soon as its window allows.
   */
  readonly spareBatchEntries?: number
  readonly preVote: boolean
  readonly checkQuorum: boolean
  /**
   * Ticks a leader waits for a follower to answer an InstallSnapshot before it
   * gives up and probes again (the driver also reports failed transfers at once).
   * Default: 20 election timeouts.
   */
  readonly snapshotTimeoutTicks?: number
  /**
   * This node lost its data and has not caught up since (it rejoins a running
   * cluster). Until it has caught up to the leader's commit index it neither
   * votes nor campaigns: a lost or half-restored log must not help elect a
   * leader that lacks entries the lost data had acknowledged. The driver keeps
   * this set across restarts until `rejoining` turns false (a crash part-way
   * through catching up leaves some of the log, not all). A brand-new cluster leaves it unset.
   */
  readonly rejoin?: boolean
  /** Uniform in [0, 1); injected so the core stays deterministic. */
  readonly random: () => number
  readonly bugs?: ReadonlySet<Bug>
}

/** What storage hands back at start-up. */
export interface RestoredState {
  readonly hardState: HardState
  /** Entries after the snapshot (or from index 1 without one), contiguous. */
  readonly entries: readonly Entry[]
  /** The stored snapshot the log starts after; the driver restores the state machine from it. */
  readonly snapshot?: SnapshotMeta | null
}
