// The deterministic Raft core. It never reads a clock, sleeps, touches disk or
// network, or draws its own random numbers: the driver feeds it ticks,
// messages and proposals, and collects a Ready describing what to persist,
// send and apply (see types.ts for the ordering contract).
import { applyConfChange, encodeConfig, quorumOf, validateConfig } from './config.js'
import { RaftLog } from './log.js'
import { Progress } from './progress.js'
import { ReadIndexQueue } from './read-index.js'
import type {
  AppendRequest,
  AppendResponse,
  ClusterConfig,
  ConfChange,
  ConfChangeRefusal,
  ConfChangeResult,
  Entry,
  HardState,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  RaftStatus,
  ReadState,
  Ready,
  RestoredState,
  Role,
  Snapshot,
  SnapshotMeta,
  VoteRequest,
  VoteResponse,
} from './types.js'

/** ReadIndex context a rejoining node uses to learn how far it must catch up. */
const REJOIN_CTX = '\u0000rejoin'
/** Election timeouts a leader keeps sending the log to a removed follower that does not catch up. */
const LEAVING_TIMEOUT_ELECTIONS = 10

type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'from' | 'term'> & { term?: number } : never) : never

export class RaftCore {
  private readonly cfg: RaftConfig
  private readonly log: RaftLog
  /** The configuration in effect (the log's latest) and what follows from it. */
  private conf: ClusterConfig
  /** Every other member, learners included: whom a leader replicates to. */
  private peers: NodeId[] = []
  private quorum = 1
  private voter = false

  private term: number
  private vote: NodeId | null
  private leader: NodeId | null = null
  private role: Role = 'follower'

  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedElectionTimeout = 0
  private readonly votes = new Map<NodeId, boolean>()
  private progress = new Map<NodeId, Progress>()
  /**
   * Leader only: followers the configuration no longer names, still sent the
   * log until they hold the entry that removed them (so they know, and stop
   * serving) and have been sent a commit index that covers it (so they do not
   * campaign to commit it; see removalPending), or for a bounded time. They
   * never count for anything.
   */
  private readonly leaving = new Map<NodeId, { readonly index: number; ticks: number }>()
  /** The ids in `leaving`, as a set replaced whenever it changes (cheap to compare). */
  private leavingIds: ReadonlySet<NodeId> = new Set()
  private readonly reads: ReadIndexQueue
  /** Leadership transfer in progress (thesis §3.10): proposals wait while it runs. */
  private transferee: NodeId | null = null
  private transferElapsed = 0

  // Output collected until the next ready().
  private msgs: Message[] = []
  private msgsAfterPersist: Message[] = []
  /** Only with a test-only bug switched on: replies that skip the persist-first rule. */
  private unsafeMsgs: Message[] = []
  private readStates: ReadState[] = []
  private droppedReads: string[] = []
  /** Rejoining after data loss: -1 until the leader told us its commit index, then that index. */
  private rejoinTarget: number | null = null
  /**
   * At most one rejoin ask a tick. Each ask starts a heartbeat round on the
   * leader, and each heartbeat would start another ask: with two rejoining
   * nodes and reads the leader cannot confirm, that doubled every round trip.
   */
  private rejoinAskedThisTick = false
  /** A snapshot from the leader, to hand out in the next full Ready. */
  private pendingSnapshot: Snapshot | null = null
  /** Last hard state handed out in a Ready, and the last one known to be on disk. */
  private lastHardState: HardState
  /** A tick passed since the commit index last changed unwritten: write it even without entries. */
  private commitWriteDue = false
  private durableHardState: HardState

  private stepRole: (m: Message) => void = this.stepFollower
  private tickRole: () => void = this.tickElection

  constructor(cfg: RaftConfig, restored: RestoredState) {
    const learners = cfg.learners ?? []
    if (!cfg.voters.includes(cfg.id) && !learners.includes(cfg.id)) throw new Error(`raft: ${cfg.id} is not among the voters or learners`)
    if (cfg.heartbeatTicks >= cfg.electionTicks) throw new Error('raft: heartbeatTicks must be below electionTicks')
    const initial = validateConfig(
      cfg.addresses === undefined ? { voters: cfg.voters, learners } : { voters: cfg.voters, learners, addresses: cfg.addresses },
    )
    if (typeof initial === 'string') throw new Error(`raft: initial ${initial}`)
    this.cfg = cfg
    this.log = new RaftLog(restored.entries, restored.hardState.commit, restored.snapshot ?? null, initial)
    this.term = restored.hardState.term
    this.vote = restored.hardState.vote
    this.lastHardState = this.hardState()
    this.durableHardState = this.lastHardState
    this.conf = this.log.config()
    this.reads = new ReadIndexQueue(cfg.id, this.conf.voters, 1)
    this.setConfig(this.conf)
    // Neither log nor term is looked at: a rejoining node killed part-way
    // through catching up holds some of the log, yet must keep abstaining.
    if (cfg.rejoin === true) this.rejoinTarget = -1
    this.becomeFollower(this.term, null)
  }

  // ---- driving surface -------------------------------------------------

  tick(): void {
    if (this.log.committed !== this.lastHardState.commit) this.commitWriteDue = true
    this.rejoinAskedThisTick = false
    this.tickRole()
  }

  step(m: Message): void {
    if (m.to !== this.cfg.id) return
    if (m.term > this.term) {
      if (m.type === 'prevote' || m.type === 'vote') {
        // CheckQuorum lease: while we hear from a live leader, a disruptive
        // candidate (e.g. a healed partitioned node) is ignored outright.
        const inLease = this.leader !== null && this.electionElapsed < this.cfg.electionTicks
        if (this.cfg.checkQuorum && inLease && !(m.type === 'vote' && m.transfer === true)) return
      }
      if (m.type === 'prevote' || (m.type === 'prevote_resp' && !m.reject)) {
        // A pre-vote and its grant are about a future term; they change nothing.
      } else {
        const leader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' ? m.from : null
        this.becomeFollower(m.term, leader)
      }
    } else if (m.term < this.term) {
      if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        // A stale leader: tell it our term so it steps down.
        this.send({ type: 'append_resp', to: m.from, reject: true, index: 0, hintIndex: 0, hintTerm: 0 })
      } else if (m.type === 'prevote') {
        this.send({ type: 'prevote_resp', to: m.from, reject: true })
      }
      return
    }
    if (m.type === 'prevote' || m.type === 'vote') {
      this.handleVoteRequest(m)
      return
    }
    this.stepRole(m)
  }

  /** Appends commands to the leader's log. Followers refuse and name the leader they know. */
  propose(data: readonly string[]): ProposeResult {
    if (this.role !== 'leader') return { ok: false, leader: this.leader }
    // During a transfer new entries would only delay the transferee catching up.
    if (this.transferee !== null) return { ok: false, leader: this.transferee }
    // A leader removing itself takes nothing new: once the change commits it no
    // longer learns what commits after it, so it could never answer those.
    if (!this.voter) return { ok: false, leader: null }
    const firstIndex = this.log.lastIndex() + 1
    const entries: Entry[] = new Array<Entry>(data.length)
    for (let i = 0; i < data.length; i++) {
      entries[i] = { index: firstIndex + i, term: this.term, kind: 'cmd', data: data[i] as string }
    }
    this.log.append(entries)
    this.broadcastAppend(false)
    return { ok: true, firstIndex, term: this.term }
  }

  /**
   * Appends a single-server membership change (thesis §4.1). It takes effect
   * here at once, and on each follower once the entry reaches its log. Refused,
   * with a reason, unless this node leads, has committed an entry of its term,
   * and the previous change is committed.
   */
  proposeConfChange(change: ConfChange): ConfChangeResult {
    const refuse = (reason: ConfChangeRefusal, leader: NodeId | null = this.leader): ConfChangeResult => ({ ok: false, reason, leader })
    if (this.role !== 'leader') return refuse('not_leader')
    if (this.transferee !== null) return refuse('transferring', this.transferee)
    const overlapping = this.cfg.bugs?.has('overlapping_conf_changes') === true
    // One change at a time: any two adjacent configurations share a majority, two steps need not.
    if (!overlapping && this.log.configIndex() > this.log.committed) return refuse('change_pending')
    // A leader that has not committed in its term may hold an older config entry than the
    // cluster committed under a previous leader (the thesis's single-server bug fix).
    if (!this.committedInCurrentTerm()) return refuse('not_committed_in_term')
    const next = applyConfChange(this.conf, change)
    if (typeof next === 'string') return refuse(next)
    // As a voter it would refuse every vote until some leader confirms its catch-up
    // target; with one more voter down, no candidate could then win.
    if (change.type === 'promote' && this.progress.get(change.id)?.rejoining === true && this.cfg.bugs?.has('promote_rejoining_learner') !== true) {
      return refuse('learner_rejoining')
    }
    const index = this.log.lastIndex() + 1
    this.log.append([{ index, term: this.term, kind: 'config', data: encodeConfig(next) }])
    this.syncConfig()
    // A smaller quorum may commit what was waiting.
    this.maybeCommit()
    this.broadcastAppend(false)
    this.releaseReads()
    return { ok: true, index, term: this.term }
  }

  /**
   * Requests a linearizable read point for `ctx`. The answer arrives as a
   * ReadState (or a dropped ctx) in a later Ready.
   */
  readIndex(ctx: string): void {
    if (this.role === 'leader') {
      this.reads.add(ctx, this.cfg.id, this.log.committed, this.committedInCurrentTerm())
      this.releaseReads()
      return
    }
    if (this.cfg.bugs?.has('follower_reads_locally') === true) {
      this.readStates.push({ ctx, index: this.log.committed })
      return
    }
    if (this.leader === null) {
      this.droppedReads.push(ctx)
      return
    }
    this.send({ type: 'read_index', to: this.leader, ctx })
  }

  /**
   * Hands leadership to `to`: once its log matches ours it is told to campaign
   * at once, so the cluster changes leader without waiting for an election
   * timeout. Returns false when this node is not the leader or `to` is not a voting peer.
   */
  transferLeadership(to: NodeId): boolean {
    const pr = this.progress.get(to)
    if (this.role !== 'leader' || pr === undefined || !this.conf.voters.includes(to)) return false
    this.transferee = to
    this.transferElapsed = 0
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeout_now', to })
    else this.sendAppend(pr, false)
    return true
  }

  /**
   * A snapshot of the state machine at `index` (applied here) is durable and
   * the stored log no longer holds entries up to it: drop them from memory too.
   * Followers that need them get the snapshot instead. False if nothing changed.
   */
  compact(index: number): boolean {
    return this.log.compact(index)
  }

  /**
   * The configuration in effect at `index`, for snapshot metadata (store it with
   * the snapshot); undefined if `index` is before the log's snapshot.
   */
  configAt(index: number): ClusterConfig | undefined {
    return this.log.configAt(index)
  }

  /** The term of the entry at `index`, for snapshot metadata; undefined if compacted or absent. */
  termAt(index: number): number | undefined {
    return this.log.term(index)
  }

  /**
   * The driver could not deliver a snapshot to `to` (peer down, stream broken):
   * probe again, which sends a fresh snapshot if one is still needed.
   */
  reportSnapshotFailed(to: NodeId): void {
    const pr = this.progress.get(to)
    if (this.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') return
    pr.becomeProbe()
  }

  hasReady(): boolean {
    return (
      this.msgs.length > 0 ||
      this.msgsAfterPersist.length > 0 ||
      this.unsafeMsgs.length > 0 ||
      this.log.hasUnstable() ||
      this.pendingSnapshot !== null ||
      this.log.hasNextCommitted() ||
      this.readStates.length > 0 ||
      this.droppedReads.length > 0 ||
      (this.role === 'leader' && this.reads.needsBroadcast()) ||
      this.term !== this.lastHardState.term ||
      this.vote !== this.lastHardState.vote ||
      (this.commitWriteDue && this.log.committed !== this.lastHardState.commit)
    )
  }

  /**
   * Collects the next round of work. With `withWrites: false` (a write is still
   * in flight) only what needs no write is handed out: messages that may go now,
   * committed entries and reads; entries, hard state and persisted messages wait
   * for the next full Ready, so one synced write covers all of them (group commit).
   */
  ready(opts: { readonly withWrites?: boolean } = {}): Ready {
    const withWrites = opts.withWrites ?? true
    if (this.role === 'leader' && this.reads.needsBroadcast()) this.broadcastHeartbeat()
    const hs = this.hardState()
    const termOrVoteChanged = hs.term !== this.lastHardState.term || hs.vote !== this.lastHardState.vote
    // Compare with what is durable, not what was handed out: an earlier Ready's
    // write of a new term may still be in flight.
    const termOrVoteNotDurable = hs.term !== this.durableHardState.term || hs.vote !== this.durableHardState.vote
    let messages: Message[] = []
    let persisted: Message[] = []
    if (!termOrVoteNotDurable) {
      messages = this.msgs
      this.msgs = []
    }
    if (withWrites) {
      // Persist before you speak: anything said since the term or vote changed may rest on it.
      persisted = this.msgs.concat(this.msgsAfterPersist)
      this.msgs = []
      this.msgsAfterPersist = []
    }
    if (this.unsafeMsgs.length > 0) {
      messages = messages.concat(this.unsafeMsgs)
      this.unsafeMsgs = []
    }
    const entries = withWrites ? this.log.takeUnstable() : []
    const snapshot = withWrites ? this.pendingSnapshot : null
    if (withWrites) this.pendingSnapshot = null
    // The commit index is persisted too: a restarted follower cannot always
    // relearn it quickly (heartbeats carry min(match, commit), and match is 0
    // until it answers an append); the simulator found that stall (seed 212).
    // It rides along with writes that happen anyway, and is written on its own
    // at most once a tick: a synced write per commit advance would double the
    // fsyncs of every round, and a restart only needs it roughly current.
    const commitChanged = hs.commit !== this.lastHardState.commit
    const commitWrite = commitChanged && (entries.length > 0 || snapshot !== null || this.commitWriteDue)
    const writeHardState = withWrites && (termOrVoteChanged || commitWrite)
    if (writeHardState) {
      this.lastHardState = hs
      this.commitWriteDue = false
    }
    const ready: Ready = {
      snapshot,
      hardState: writeHardState ? hs : null,
      entries,
      messages,
      persistedMessages: persisted,
      committed: this.log.takeCommitted(),
      readStates: this.readStates,
      droppedReads: this.droppedReads,
    }
    this.readStates = []
    this.droppedReads = []
    return ready
  }

  /** The driver finished writing `ready`: entries now count toward the leader's quorum. */
  advance(ready: Ready): void {
    if (ready.hardState !== null) this.durableHardState = ready.hardState
    const last = ready.entries[ready.entries.length - 1]
    if (last === undefined) return
    this.log.stableTo(last.index, last.term)
    if (this.role === 'leader' && this.maybeCommit()) this.broadcastAppend(false)
    this.stepDownIfRemoved()
  }

  status(): RaftStatus {
    return {
      id: this.cfg.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      persistedIndex: this.log.persisted,
      snapshotIndex: this.log.snapshotIndex(),
      voters: this.conf.voters,
      learners: this.conf.learners,
      progress: this.role === 'leader' ? [...this.progress.values()].map((p) => p.view()) : [],
      ...(this.transferee === null ? {} : { transferringTo: this.transferee }),
    }
  }

  get currentRole(): Role {
    return this.role
  }

  get currentLeader(): NodeId | null {
    return this.leader
  }

  get currentTerm(): number {
    return this.term
  }

  /** Last index handed out for applying; cheap, unlike status(), for per-Ready checks. */
  get appliedIndex(): number {
    return this.log.applied
  }

  get snapshotIndex(): number {
    return this.log.snapshotIndex()
  }

  /** True while this node rejoins after losing its data and has not caught up (RaftConfig.rejoin). */
  get rejoining(): boolean {
    return this.catchingUp()
  }

  /** Leader only: removed followers still being sent the log (see `leaving`); a new set whenever it changes. */
  get leavingPeers(): ReadonlySet<NodeId> {
    return this.leavingIds
  }

  /** The configuration in effect (the log's latest); a new object whenever it changes. */
  get clusterConfig(): ClusterConfig {
    return this.conf
  }

  /** The leader's view of a peer's log (learners included); undefined elsewhere. */
  peerMatch(id: NodeId): number | undefined {
    return this.role === 'leader' ? this.progress.get(id)?.match : undefined
  }

  /** On the leader: `id` asked for its catch-up target after `rejoin` and does not hold it yet. */
  peerRejoining(id: NodeId): boolean {
    return this.role === 'leader' && this.progress.get(id)?.rejoining === true
  }

  /** The log entry at `index` (for tests and invariant checks); undefined if compacted or absent. */
  entryAt(index: number): Entry | undefined {
    if (index < this.log.firstIndex() || index > this.log.lastIndex()) return undefined
    return this.log.slice(index, index + 1)[0]
  }

  // ---- roles -------------------------------------------------------------

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (term !== this.term) {
      this.term = term
      this.vote = null
    }
    this.dropPendingReads()
    this.transferee = null
    this.clearLeaving()
    this.leader = leader
    this.role = 'follower'
    this.stepRole = this.stepFollower
    this.tickRole = this.tickElection
    this.resetTimers()
  }

  private becomePreCandidate(): void {
    this.role = 'precandidate'
    this.leader = null
    this.stepRole = this.stepCandidate
    this.tickRole = this.tickElection
    this.resetTimers()
    this.startPoll('prevote', this.term + 1)
  }

  private becomeCandidate(transfer = false): void {
    this.term += 1
    this.vote = this.cfg.id
    this.role = 'candidate'
    this.leader = null
    this.stepRole = this.stepCandidate
    this.tickRole = this.tickElection
    this.resetTimers()
    this.startPoll('vote', this.term, transfer)
  }

  private becomeLeader(): void {
    this.role = 'leader'
    this.leader = this.cfg.id
    this.stepRole = this.stepLeader
    this.tickRole = this.tickHeartbeat
    this.resetTimers()
    this.progress = new Map()
    this.clearLeaving()
    for (const id of this.peers) {
      const pr = new Progress(id, this.log.lastIndex(), this.cfg.maxInflight, this.cfg.maxBatchEntries)
      pr.recentActive = true
      this.progress.set(id, pr)
    }
    this.reads.reset()
    this.transferee = null
    // A no-op of our own term lets us commit everything before it (Raft §5.4.2, Figure 8).
    this.log.append([{ index: this.log.lastIndex() + 1, term: this.term, kind: 'noop', data: '' }])
    this.broadcastAppend(true)
  }

  private startPoll(type: 'prevote' | 'vote', term: number, transfer = false): void {
    this.votes.clear()
    this.votes.set(this.cfg.id, true)
    if (this.tallyWon()) {
      if (type === 'prevote') this.becomeCandidate()
      else this.becomeLeader()
      return
    }
    for (const to of this.conf.voters) {
      if (to === this.cfg.id) continue
      const lastIndex = this.log.lastIndex()
      const lastTerm = this.log.lastTerm()
      if (transfer) this.send({ type, to, term, lastIndex, lastTerm, transfer })
      else this.send({ type, to, term, lastIndex, lastTerm })
    }
  }

  private campaign(): void {
    if (this.cfg.preVote) this.becomePreCandidate()
    else this.becomeCandidate()
  }

  // ---- ticks -------------------------------------------------------------

  private tickElection(): void {
    // The clock runs for every node, so that a learner's or a rejoining node's
    // CheckQuorum lease on a leader that has gone expires; but learners,
    // removed nodes (unless removalPending) and rejoining nodes never campaign.
    this.electionElapsed++
    if ((!this.voter && !this.removalPending()) || this.catchingUp()) return
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0
      this.campaign()
    }
  }

  private tickHeartbeat(): void {
    this.electionElapsed++
    this.heartbeatElapsed++
    if (this.transferee !== null && ++this.transferElapsed >= this.cfg.electionTicks) {
      // The transferee did not take over within an election timeout: keep leading.
      this.transferee = null
    }
    // A removed follower that never answers (stopped, or cut off) is given up on.
    for (const [id, l] of this.leaving) if (++l.ticks >= this.cfg.electionTicks * LEAVING_TIMEOUT_ELECTIONS) this.forget(id)
    const snapshotTimeout = this.cfg.snapshotTimeoutTicks ?? this.cfg.electionTicks * 20
    for (const pr of this.progress.values()) {
      pr.onTick()
      // An unanswered snapshot (lost, or refused as stale) must not block the follower forever.
      if (pr.state === 'snapshot' && ++pr.snapshotElapsed >= snapshotTimeout) pr.becomeProbe()
    }
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0
      if (this.cfg.checkQuorum && !this.quorumActive()) {
        // We cannot reach a majority: stop acting as leader so clients go elsewhere.
        this.becomeFollower(this.term, null)
        return
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.broadcastHeartbeat()
    }
    // Spares get what they lack once a tick; a needed follower that stalled
    // through this tick now ranks below them, so its entries go to a spare at once.
    if (this.sparesEnabled()) for (const pr of this.progress.values()) this.sendAppend(pr, false, true)
    // A new commit index reaches followers with the next entries; one that no
    // entries carried within a tick gets an empty append. Sending one per
    // commit advance would double the messages of every round.
    for (const pr of this.progress.values()) {
      // A paused follower is told only what it is known to hold (sendAppend does the same).
      const due = pr.isPaused(this.log.lastIndex()) ? Math.min(pr.match, this.log.committed) : this.log.committed
      if (pr.sentCommit < due) this.sendAppend(pr, true)
    }
  }

  private resetTimers(): void {
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.randomizedElectionTimeout = this.cfg.electionTicks + Math.floor(this.cfg.random() * this.cfg.electionTicks)
  }

  // ---- message handling ----------------------------------------------------

  /** True while a rejoining node has not yet caught up (see RaftConfig.rejoin). */
  private catchingUp(): boolean {
    if (this.rejoinTarget === null) return false
    if (this.rejoinTarget >= 0 && this.log.committed >= this.rejoinTarget) this.rejoinTarget = null
    return this.rejoinTarget !== null
  }

  /** Asks the leader for its commit index (a ReadIndex round), once a tick, until it answers. */
  private askRejoinTarget(leader: NodeId): void {
    if (this.rejoinTarget !== -1 || this.rejoinAskedThisTick) return
    this.rejoinAskedThisTick = true
    this.send({ type: 'read_index', to: leader, ctx: REJOIN_CTX })
  }

  private handleVoteRequest(m: VoteRequest): void {
    const respType = m.type === 'prevote' ? 'prevote_resp' : 'vote_resp'
    if (this.catchingUp()) {
      this.send({ type: respType, to: m.from, reject: true })
      return
    }
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (m.type === 'prevote' && m.term > this.term)
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // A grant is sent at the requested term, so the (pre)candidate counts it.
      // A vote is durable before the candidate hears of it (no double vote after a crash).
      const grant: Outgoing = { type: respType, to: m.from, term: m.term, reject: false }
      if (m.type === 'prevote') this.send(grant)
      else if (this.cfg.bugs?.has('vote_not_persisted_before_reply') === true) this.unsafeMsgs.push(this.stamp(grant))
      else this.sendAfterPersist(grant)
      if (m.type === 'vote') {
        this.electionElapsed = 0
        this.vote = m.from
      }
    } else {
      this.send({ type: respType, to: m.from, reject: true })
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0
        this.leader = m.from
        this.handleAppend(m)
        return
      case 'heartbeat':
        this.electionElapsed = 0
        this.leader = m.from
        this.handleHeartbeat(m)
        this.askRejoinTarget(m.from)
        return
      case 'snapshot':
        this.electionElapsed = 0
        this.leader = m.from
        this.handleSnapshot(m)
        return
      case 'timeout_now':
        // Our leader hands over: campaign now, skipping PreVote and the voters' lease.
        if (m.from === this.leader && this.voter) this.becomeCandidate(true)
        return
      case 'read_index_resp':
        if (m.ctx === REJOIN_CTX) {
          if (!m.reject && this.rejoinTarget === -1) this.rejoinTarget = m.index
          return
        }
        if (m.reject) this.droppedReads.push(m.ctx)
        else this.readStates.push({ ctx: m.ctx, index: m.index })
        return
      case 'read_index':
        // Not the leader (any more): let the asker retry elsewhere.
        this.send({ type: 'read_index_resp', to: m.from, ctx: m.ctx, index: 0, reject: true })
        return
      default:
        return
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Someone won this term (our own term, or a higher one handled in step()).
        this.becomeFollower(m.term, m.from)
        this.stepFollower(m)
        return
      case 'prevote_resp':
        // A grant carries the term it grants (ours + 1); one at our own term
        // answers an earlier round and must not count in this one.
        if (this.role === 'precandidate' && (m.reject || m.term === this.term + 1)) this.tallyVote(m)
        return
      case 'vote_resp':
        if (this.role === 'candidate') this.tallyVote(m)
        return
      case 'read_index':
        this.send({ type: 'read_index_resp', to: m.from, ctx: m.ctx, index: 0, reject: true })
        return
      default:
        return
    }
  }

  private tallyVote(m: VoteResponse): void {
    if (!this.votes.has(m.from)) this.votes.set(m.from, !m.reject)
    if (this.tallyWon()) {
      if (this.role === 'precandidate') this.becomeCandidate()
      else this.becomeLeader()
    } else if (this.tallyLost()) {
      this.becomeFollower(this.term, null)
    }
  }

  /** Only voters of our configuration count (a learner may answer, e.g. one promoted in a newer log). */
  private tallyWon(): boolean {
    let granted = 0
    for (const [id, g] of this.votes) if (g && this.conf.voters.includes(id)) granted++
    return granted >= this.quorum
  }

  private tallyLost(): boolean {
    let rejected = 0
    for (const [id, g] of this.votes) if (!g && this.conf.voters.includes(id)) rejected++
    return rejected > this.conf.voters.length - this.quorum
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from)
    switch (m.type) {
      case 'append_resp':
        if (pr === undefined) return
        pr.recentActive = true
        this.handleAppendResponse(pr, m)
        return
      case 'heartbeat_resp':
        if (pr === undefined) return
        pr.recentActive = true
        this.handleHeartbeatResponse(pr, m)
        return
      case 'read_index':
        if (pr === undefined) return
        if (m.ctx === REJOIN_CTX) pr.rejoinTarget = -1
        // A spare that reads must hold the entries up to the read index to answer.
        if (this.isSpare(pr)) this.sendAppend(pr, false, true)
        this.reads.add(m.ctx, m.from, this.log.committed, this.committedInCurrentTerm())
        this.releaseReads()
        return
      default:
        return
    }
  }

  private handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.log.committed) {
      // Everything up to our commit index already matches the leader.
      this.sendAfterPersist({ type: 'append_resp', to: m.from, reject: false, index: this.log.committed, hintIndex: 0, hintTerm: 0 })
      return
    }
    if (this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = this.log.appendAfterMatch(m.prevIndex, m.entries)
      this.syncConfig()
      this.log.commitTo(Math.min(m.commit, lastNew))
      this.sendAfterPersist({ type: 'append_resp', to: m.from, reject: false, index: lastNew, hintIndex: 0, hintTerm: 0 })
      return
    }
    // Fast backtracking: point the leader at the last index of a term <= its prevTerm.
    const hintIndex = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm)
    const hintTerm = this.log.term(hintIndex) ?? 0
    this.sendAfterPersist({ type: 'append_resp', to: m.from, reject: true, index: m.prevIndex, hintIndex, hintTerm })
  }

  private handleSnapshot(m: InstallSnapshot): void {
    const ack = (index: number): void =>
      this.sendAfterPersist({ type: 'append_resp', to: m.from, reject: false, index, hintIndex: 0, hintTerm: 0 })
    if (m.index <= this.log.committed) {
      // Nothing new: everything it covers is committed here already.
      ack(this.log.committed)
      return
    }
    if (this.log.matchTerm(m.index, m.snapTerm)) {
      // Our log already has its last entry, hence (log matching) everything before it.
      this.log.commitTo(m.index)
      ack(m.index)
      return
    }
    const meta: SnapshotMeta =
      m.config === undefined ? { index: m.index, term: m.snapTerm } : { index: m.index, term: m.snapTerm, config: m.config }
    this.log.restore(meta)
    this.syncConfig()
    this.pendingSnapshot = { ...meta, data: m.data }
    // The answer waits for the snapshot to be stored (it rides on the same write).
    ack(m.index)
  }

  private handleHeartbeat(m: Heartbeat): void {
    // The leader sends min(match, commit), so this never exceeds what we share with it...
    if (m.commit > this.log.lastIndex()) {
      // ...unless we lost entries we acknowledged (a wiped data dir): say where our log ends.
      this.send({ type: 'append_resp', to: m.from, reject: true, index: m.commit, hintIndex: this.log.lastIndex(), hintTerm: this.log.lastTerm() })
    }
    this.log.commitTo(m.commit)
    this.send({ type: 'heartbeat_resp', to: m.from, readSeq: m.readSeq })
  }

  private handleAppendResponse(pr: Progress, m: AppendResponse): void {
    if (m.reject) {
      const hint = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex
      if (pr.reject(m.index, hint)) this.sendAppend(pr, false)
      return
    }
    const wasPaused = pr.isPaused(this.log.lastIndex())
    const progressed = pr.ack(m.index)
    if (this.leaving.has(pr.id)) {
      this.releaseIfInformed(pr.id)
      if (!this.progress.has(pr.id)) return
    }
    if (this.transferee === pr.id && pr.match === this.log.lastIndex()) {
      this.send({ type: 'timeout_now', to: pr.id })
    }
    if (progressed) {
      if (this.maybeCommit()) this.broadcastAppend(false)
      else this.sendAppend(pr, false)
    } else if (wasPaused) {
      this.sendAppend(pr, false)
    }
    this.stepDownIfRemoved()
  }

  private handleHeartbeatResponse(pr: Progress, m: HeartbeatResponse): void {
    pr.onHeartbeatResponse(this.log.lastIndex())
    // sendIfEmpty: in replicate state `next` may already be past the last index
    // while the appends carrying the tail were lost; an empty append at next-1
    // makes the follower reject and the leader fall back to probing (etcd does the same).
    if (pr.match < this.log.lastIndex()) this.sendAppend(pr, true, true)
    this.reads.ack(m.from, m.readSeq)
    this.releaseReads()
  }

  // ---- replication ---------------------------------------------------------

  private broadcastAppend(sendIfEmpty: boolean): void {
    for (const pr of this.progress.values()) this.sendAppend(pr, sendIfEmpty)
  }

  /**
   * Sends as many AppendEntries as the follower's window allows; to a spare
   * (see RaftConfig.spareBatchEntries) only once it lags by a full batch,
   * unless `flushSpare`.
   */
  private sendAppend(pr: Progress, sendIfEmpty: boolean, flushSpare = false): void {
    const last = this.log.lastIndex()
    if (!flushSpare && pr.unsent(last) < (this.cfg.spareBatchEntries ?? 0) && this.isSpare(pr)) {
      if (sendIfEmpty) this.sendCommitNotice(pr, last)
      return
    }
    let sentAny = false
    while (!pr.isPaused(last) && (pr.next <= last || (sendIfEmpty && !sentAny))) {
      const prevIndex = pr.next - 1
      const prevTerm = this.log.term(prevIndex)
      if (prevTerm === undefined) {
        // The entries it needs were compacted away.
        this.sendSnapshot(pr)
        return
      }
      const hi = Math.min(last + 1, pr.next + this.cfg.maxBatchEntries)
      const entries = withinChars(this.log.slice(pr.next, hi), this.cfg.maxBatchChars)
      this.send({
        type: 'append',
        to: pr.id,
        prevIndex,
        prevTerm,
        entries,
        commit: this.log.committed,
      })
      pr.sentCommit = this.log.committed
      pr.sent(prevIndex + entries.length, entries.length > 0)
      sentAny = true
      if (entries.length === 0) return
    }
    if (sendIfEmpty && !sentAny) this.sendCommitNotice(pr, last)
  }

  /** An empty append: a follower we hold entries back from still learns the commit index, up to what it holds. */
  private sendCommitNotice(pr: Progress, last: number): void {
    if (pr.state === 'snapshot' || pr.match < this.log.snapshotIndex()) return
    const prevIndex = Math.min(pr.match, last)
    const commit = Math.min(pr.match, this.log.committed)
    this.send({ type: 'append', to: pr.id, prevIndex, prevTerm: this.log.term(prevIndex) ?? 0, entries: [], commit })
    pr.sentCommit = commit
  }

  private sparesEnabled(): boolean {
    return (this.cfg.spareBatchEntries ?? 0) > 0
  }

  /**
   * Whether a commit can do without `pr` for now: it is a voter in replicate
   * state, not the transfer target, and at least quorum-1 other followers
   * (quorum if we do not vote) rank above it. Followers rank by stalled ticks,
   * then id, so the choice is stable while all answer promptly, and one that
   * keeps the leader waiting through a tick is replaced by a spare at once.
   */
  private isSpare(pr: Progress): boolean {
    if (!this.sparesEnabled() || pr.state !== 'replicate' || pr.id === this.transferee || !this.conf.voters.includes(pr.id)) return false
    const needed = this.voter ? this.quorum - 1 : this.quorum
    let above = 0
    for (const id of this.conf.voters) {
      const other = id === pr.id ? undefined : this.progress.get(id)
      if (other !== undefined && ranksAbove(other, pr)) above++
    }
    return above >= needed
  }

  private sendSnapshot(pr: Progress): void {
    const index = this.log.snapshotIndex()
    pr.becomeSnapshot(index)
    const config = this.log.snapshotConfig()
    this.send({ type: 'snapshot', to: pr.id, index, snapTerm: this.log.term(index) ?? 0, data: '', config })
  }

  private broadcastHeartbeat(): void {
    const readSeq = this.reads.broadcastSeq()
    for (const pr of this.progress.values()) {
      this.send({ type: 'heartbeat', to: pr.id, commit: Math.min(pr.match, this.log.committed), readSeq })
    }
  }

  /** Advances the commit index to what a quorum has durably stored. */
  private maybeCommit(): boolean {
    // Voters only: a learner's copy does not count, nor ours once we removed ourselves.
    const matches: number[] = []
    for (const id of this.conf.voters) {
      matches.push(id === this.cfg.id ? this.log.persisted : (this.progress.get(id)?.match ?? 0))
    }
    matches.sort((a, b) => b - a)
    const candidate = matches[this.quorum - 1] ?? 0
    if (candidate <= this.log.committed) return false
    // Raft §5.4.2: only entries of our own term are committed by counting replicas.
    const countsOldTerms = this.cfg.bugs?.has('commit_previous_term_by_counting') === true
    if (!countsOldTerms && this.log.term(candidate) !== this.term) return false
    this.log.commitTo(candidate)
    if (this.committedInCurrentTerm()) {
      this.reads.onCommitInTerm(this.log.committed)
      this.releaseReads()
    }
    return true
  }

  private quorumActive(): boolean {
    let active = this.voter ? 1 : 0
    for (const pr of this.progress.values()) {
      if (pr.recentActive && this.conf.voters.includes(pr.id)) active++
      pr.recentActive = false
    }
    return active >= this.quorum
  }

  // ---- membership -----------------------------------------------------------

  private setConfig(c: ClusterConfig): void {
    this.conf = c
    this.voter = c.voters.includes(this.cfg.id)
    this.peers = [...c.voters, ...c.learners].filter((id) => id !== this.cfg.id)
    this.quorum = quorumOf(c)
    this.reads.setVoters(c.voters, this.quorum)
  }

  /** The log's latest configuration changed (appended, truncated away, or a snapshot): adopt it. */
  private syncConfig(): void {
    const c = this.log.config()
    if (c === this.conf) return
    this.setConfig(c)
    if (this.role !== 'leader') return
    for (const id of this.peers) {
      if (this.progress.has(id)) continue
      const pr = new Progress(id, this.log.lastIndex(), this.cfg.maxInflight, this.cfg.maxBatchEntries)
      pr.recentActive = true
      this.progress.set(id, pr)
    }
    // A removed follower is sent the log until it holds its removal; a re-added one is a member again.
    for (const id of [...this.progress.keys()]) {
      if (this.peers.includes(id)) {
        if (this.leaving.has(id)) this.forget(id, false)
      } else if (!this.leaving.has(id)) {
        this.leaving.set(id, { index: this.log.configIndex(), ticks: 0 })
        this.leavingIds = new Set(this.leaving.keys())
        this.releaseIfInformed(id)
      }
    }
    if (this.transferee !== null && !c.voters.includes(this.transferee)) this.transferee = null
  }

  /** A removed follower that holds the entry removing it, and was sent a commit index covering it, is sent nothing more. */
  private releaseIfInformed(id: NodeId): void {
    const l = this.leaving.get(id)
    const pr = this.progress.get(id)
    if (l !== undefined && pr !== undefined && pr.match >= l.index && pr.sentCommit >= l.index) this.forget(id)
  }

  /** Stops tracking a leaving follower; with `drop`, its progress goes too (it is sent nothing more). */
  private forget(id: NodeId, drop = true): void {
    this.leaving.delete(id)
    this.leavingIds = new Set(this.leaving.keys())
    if (drop) this.progress.delete(id)
  }

  private clearLeaving(): void {
    if (this.leaving.size === 0) return
    this.leaving.clear()
    this.leavingIds = new Set()
  }

  /**
   * Removed by the latest configuration entry, which it does not know to be
   * committed, while a voter before it. It may hold the longest log (a leader
   * that appended its own removal, then lost leadership), and the others,
   * still under the older configuration, may need its vote, which it refuses
   * to shorter logs. So it campaigns, counting only the new configuration's
   * votes (tallyWon), and once elected commits its removal and hands over
   * (thesis §4.2.2). One that knows its removal committed never campaigns.
   */
  private removalPending(): boolean {
    const at = this.log.configIndex()
    return at > this.log.committed && this.log.configAt(at - 1)?.voters.includes(this.cfg.id) === true
  }

  /** A leader that removed itself leads until that change commits, then steps down (thesis §4.2.2). */
  private stepDownIfRemoved(): void {
    if (this.role === 'leader' && !this.voter && this.log.committed >= this.log.configIndex()) {
      // Hand over like a transfer, so the cluster needs no election timeout:
      // a voter holding our whole log may campaign at once.
      const last = this.log.lastIndex()
      const heir = [...this.progress.values()].find((pr) => pr.match === last && this.conf.voters.includes(pr.id))
      if (heir !== undefined) this.send({ type: 'timeout_now', to: heir.id })
      this.becomeFollower(this.term, null)
    }
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term
  }

  // ---- reads ----------------------------------------------------------------

  private releaseReads(): void {
    for (const r of this.reads.takeReleased()) {
      if (r.from === this.cfg.id) {
        this.readStates.push({ ctx: r.ctx, index: r.index })
        continue
      }
      this.send({ type: 'read_index_resp', to: r.from, ctx: r.ctx, index: r.index, reject: false })
      const pr = r.ctx === REJOIN_CTX ? this.progress.get(r.from) : undefined
      if (pr !== undefined && pr.rejoinTarget === -1) pr.rejoinTarget = r.index
    }
  }

  private dropPendingReads(): void {
    for (const r of this.reads.takeAll()) {
      if (r.from === this.cfg.id) this.droppedReads.push(r.ctx)
      else this.send({ type: 'read_index_resp', to: r.from, ctx: r.ctx, index: 0, reject: true })
    }
  }

  // ---- output ---------------------------------------------------------------

  private send(m: Outgoing): void {
    this.msgs.push(this.stamp(m))
  }

  /** Messages that acknowledge log entries wait for the entries to be durable. */
  private sendAfterPersist(m: Outgoing): void {
    if (m.type === 'append_resp' && this.cfg.bugs?.has('append_acked_before_sync') === true) this.unsafeMsgs.push(this.stamp(m))
    else this.msgsAfterPersist.push(this.stamp(m))
  }

  /**
   * Fills in sender and term. Every caller passes a literal built for this one
   * message, so it is completed in place: a spread copy per message showed up
   * in leader and follower profiles (1-2% of their time).
   */
  private stamp(m: Outgoing): Message {
    const out = m as Outgoing & { from: NodeId; term: number }
    out.from = this.cfg.id
    out.term ??= this.term
    return out as Message
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }
}

/** Which of two followers a commit should wait on first (see RaftCore.isSpare). */
function ranksAbove(a: Progress, b: Progress): boolean {
  if (a.state !== 'replicate') return false
  if (a.stalledTicks !== b.stalledTicks) return a.stalledTicks < b.stalledTicks
  return a.id < b.id
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

/** The longest prefix of `entries` whose data fits in `cap` characters, and at least one entry. */
function withinChars(entries: Entry[], cap: number | undefined): Entry[] {
  if (cap === undefined) return entries
  let chars = 0
  for (let i = 0; i < entries.length; i++) {
    chars += (entries[i] as Entry).data.length
    if (chars > cap && i > 0) return entries.slice(0, i)
  }
  return entries
}
