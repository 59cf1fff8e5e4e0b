// The simulated node driver: what src/node/ will do for real, on virtual
// time. It ticks the core, sends a Ready's `messages` at once, writes its
// hard state and entries to a disk that takes time (serialized), and only when
// that write is synced sends `persistedMessages`, calls advance and applies
// the committed entries. It also stamps proposals with its own clock,
// forwards increments to the leader, and serves ReadIndex reads.
import { inChunks } from '../chunks.js'
import { RaftCore } from '../raft/core.js'
import { storedSnapshotMessage } from '../raft/install-snapshot.js'
import type { Bug, ConfChange, ConfChangeResult, Entry, Message, NodeId, RaftConfig, Ready, Snapshot } from '../raft/types.js'
import { decodeCommandBatch, encodeCommandBatch, type BatchItem, type CommandBatch } from '../ratelimit/command-batch.js'
import { RateLimitStateMachine } from '../ratelimit/state-machine.js'
import { SimDisk } from './disk.js'
import type { EventQueue } from './event-queue.js'
import type { Trace } from './trace.js'
import { RAFT_BUGS, type AnyBug, type CrashPoint, type IncrementRequest, type Reply, type SimConfig } from './types.js'

const isRaftBug = (b: AnyBug): b is Bug => (RAFT_BUGS as readonly string[]).includes(b)

/** Simulated wall clocks start here (ms since the epoch), so ±1 h jumps stay positive. */
export const EPOCH_MS = 1_700_000_000_000

export interface NodeObserver {
  onReady(node: SimNode, core: RaftCore, rd: Ready): void
  /** The state machine became a snapshot (at start, or sent by the leader): applying resumes after `index`. */
  onRestore(node: SimNode, index: number): void
  onApply(node: SimNode, e: Entry): void
  /** Whether to hash the state machine after applying `index` (hashing every index is costly). */
  wantsHash(index: number): boolean
  onHash(node: SimNode, index: number, hash: string): void
  afterStep(node: SimNode): void
}

export interface NodeEnv {
  readonly queue: EventQueue
  readonly trace: Trace
  readonly cfg: SimConfig
  readonly observer: NodeObserver
  sendRaft(m: Message): void
  forward(from: NodeId, to: NodeId, fid: number, req: IncrementRequest): void
  forwardReply(from: NodeId, to: NodeId, fid: number, reply: Reply): void
  /** A fresh, seed-derived stream for a new incarnation's election timer. */
  newRandom(): () => number
  /** Crash hooks fire from inside the driver; the world decides about the restart. */
  crashedByHook(node: SimNode, point: CrashPoint, restartAfterMs: number): void
  diskLatency(node: SimNode): number
  /** Sends a subset of the messages (figure-8 style partial replication before a crash). */
  chance(p: number): boolean
  /**
   * requestId -> effective stamp of its first (non-duplicate) apply. Shared by
   * every replica: that stamp is the same everywhere (the state hashes are
   * checked), and a replica that started from a snapshot never applied it.
   */
  readonly stampOf: Map<string, number>
}

export interface CrashHook {
  readonly point: CrashPoint
  readonly restartAfterMs: number
  /** before-* only: each of the Ready's `messages` leaves with probability 0.5 (else all leave). */
  readonly partialSend: boolean
}

interface Proposal {
  readonly req: IncrementRequest
  readonly reply: (r: Reply) => void
}

/** One entry's increments, answered item by item. */
interface PendingProposal {
  readonly term: number
  readonly items: readonly Proposal[]
}

interface WaitingRead {
  readonly index: number
  readonly key: string
  readonly reply: (r: Reply) => void
}

export class SimNode {
  readonly disk: SimDisk
  alive = false
  incarnation = 0
  core: RaftCore | null = null
  sm: RateLimitStateMachine
  /** Last index applied to `sm` in this incarnation. */
  applied = 0
  /** Local wall clock = EPOCH_MS + virtual time + offset (skew, jumps). */
  clockOffset = 0
  crashHook: CrashHook | null = null
  /** Extra disk latency range while this node's disk is slow. */
  slowDisk: readonly [number, number] | null = null
  /** Snapshots received from a leader and restored, over the node's life. */
  installs = 0
  /**
   * Set once its disk was wiped (or it joins empty): it rejoins as a node that
   * lost its data (RaftConfig.rejoin), across restarts, until the core has
   * caught up. Production keeps the same fact in a marker file beside the log.
   */
  rejoin = false
  private compacting = false

  private lastProposedStamp = 0
  private readonly proposals = new Map<number, PendingProposal>()
  /** Increments a leader received at this instant: proposed together as one entry, like the real node's turn. */
  private toPropose: Proposal[] = []
  private readonly forwarded = new Map<number, (r: Reply) => void>()
  private readonly reads = new Map<string, { key: string; reply: (r: Reply) => void }>()
  private waiting: WaitingRead[] = []
  private nextId = 0

  constructor(
    readonly id: NodeId,
    private readonly env: NodeEnv,
    private readonly voters: readonly NodeId[],
  ) {
    this.disk = new SimDisk(env.queue, () => env.diskLatency(this))
    this.sm = this.newStateMachine()
  }

  private newStateMachine(): RateLimitStateMachine {
    return new RateLimitStateMachine({ dedupTtlMs: this.env.cfg.dedupTtlMs, dedupMinApplies: this.env.cfg.dedupMinApplies })
  }

  localClock(): number {
    return EPOCH_MS + this.env.queue.now + this.clockOffset
  }

  // ---- life cycle --------------------------------------------------------

  start(): void {
    const cfg = this.env.cfg
    const raftCfg: RaftConfig = {
      id: this.id,
      voters: this.voters,
      electionTicks: cfg.electionTicks,
      heartbeatTicks: cfg.heartbeatTicks,
      maxInflight: cfg.maxInflight,
      maxBatchEntries: cfg.maxBatchEntries,
      preVote: cfg.preVote,
      checkQuorum: cfg.checkQuorum,
      random: this.env.newRandom(),
      bugs: new Set(cfg.bugs.filter(isRaftBug)),
      ...(cfg.snapshotTimeoutTicks === undefined ? {} : { snapshotTimeoutTicks: cfg.snapshotTimeoutTicks }),
      ...(cfg.spareBatchEntries === undefined ? {} : { spareBatchEntries: cfg.spareBatchEntries }),
      rejoin: this.rejoin,
    }
    const restored = this.disk.load()
    this.incarnation++
    this.alive = true
    this.compacting = false
    this.core = new RaftCore(raftCfg, restored)
    this.sm = this.newStateMachine()
    this.applied = 0
    if (restored.snapshot !== null) this.restore(restored.snapshot)
    this.lastProposedStamp = 0
    const t = this.env.trace
    t.on && t.log(`${this.id} start #${this.incarnation} term=${restored.hardState.term} vote=${restored.hardState.vote} commit=${restored.hardState.commit} snapshot=${restored.snapshot?.index ?? 0} log=${restored.entries.length}${this.rejoin ? ' rejoin' : ''}`)
    this.scheduleTick(this.incarnation)
    this.pump()
  }

  /** Power loss: volatile state and un-synced writes are gone; pending requests die silently. */
  powerOff(why: string): void {
    if (!this.alive) return
    const lost = this.disk.powerLoss()
    this.alive = false
    this.core = null
    this.crashHook = null
    this.proposals.clear()
    this.toPropose = []
    this.forwarded.clear()
    this.reads.clear()
    this.waiting = []
    const t = this.env.trace
    t.on && t.log(`${this.id} CRASH (${why}) lostWrites=${lost} synced=${this.disk.lastIndex}`)
  }

  private scheduleTick(inc: number): void {
    this.env.queue.after(this.env.cfg.tickMs, () => {
      if (!this.alive || this.incarnation !== inc || this.core === null) return
      this.core.tick()
      this.pump()
      this.scheduleTick(inc)
    })
  }

  // ---- inputs --------------------------------------------------------------

  receive(m: Message): void {
    if (this.core === null) return
    this.core.step(m)
    this.pump()
  }

  /** A client's increment: propose if leader, else forward to the leader we know. */
  increment(req: IncrementRequest, reply: (r: Reply) => void): void {
    const core = this.core
    if (core === null) return
    if (core.currentRole === 'leader') {
      this.propose(req, reply)
      return
    }
    const leader = core.currentLeader
    if (leader === null || leader === this.id) {
      reply({ ok: false, error: 'no_leader' })
      return
    }
    const fid = this.nextId++
    this.forwarded.set(fid, reply)
    this.env.forward(this.id, leader, fid, req)
  }

  onForward(from: NodeId, fid: number, req: IncrementRequest): void {
    if (this.core === null) return
    if (this.core.currentRole !== 'leader') {
      this.env.forwardReply(this.id, from, fid, { ok: false, error: 'not_leader' })
      return
    }
    this.propose(req, (r) => this.env.forwardReply(this.id, from, fid, r))
  }

  onForwardReply(fid: number, r: Reply): void {
    const reply = this.forwarded.get(fid)
    if (reply === undefined) return
    this.forwarded.delete(fid)
    reply(r)
  }

  /** A client's check: ReadIndex, answered once applied reaches the read index. */
  check(key: string, reply: (r: Reply) => void): void {
    if (this.core === null) return
    const ctx = `${this.id}.${this.incarnation}.${this.nextId++}`
    this.reads.set(ctx, { key, reply })
    this.core.readIndex(ctx)
    this.pump()
  }

  /** The network lost a snapshot this node sent (a failed transfer, as the real driver reports it). */
  snapshotFailed(to: NodeId): void {
    if (this.core === null) return
    this.core.reportSnapshotFailed(to)
    this.pump()
  }

  /** Leadership transfer to `to` (FAULTS 19); false if this node cannot start one. */
  transferLeadership(to: NodeId): boolean {
    if (this.core === null) return false
    const ok = this.core.transferLeadership(to)
    const t = this.env.trace
    t.on && t.log(`${this.id} transfer leadership to ${to}: ${ok ? 'started' : 'refused'}`)
    this.pump()
    return ok
  }

  /** A membership change, as an operator asks the leader for one (FAULTS 22). */
  proposeConfChange(change: ConfChange): ConfChangeResult {
    if (this.core === null) return { ok: false, reason: 'not_leader', leader: null }
    const r = this.core.proposeConfChange(change)
    const t = this.env.trace
    t.on && t.log(`${this.id} conf change ${change.type} ${change.id}: ${r.ok ? `appended ${r.index}@${r.term}` : `refused ${r.reason}`}`)
    this.pump()
    return r
  }

  private propose(req: IncrementRequest, reply: (r: Reply) => void): void {
    if (this.core === null) return
    this.toPropose.push({ req, reply })
    if (this.toPropose.length > 1) return
    const inc = this.incarnation
    // What arrives meanwhile joins the batch, as a busy node's turn gathers requests.
    this.env.queue.after(this.env.cfg.proposeBatchMs, () => {
      if (this.alive && inc === this.incarnation) this.proposeBatch()
    })
  }

  private proposeBatch(): void {
    const core = this.core
    const items = this.toPropose
    this.toPropose = []
    if (core === null || items.length === 0) return
    // Stamps never go back on one leader, even when its clock does.
    const stamp = Math.max(this.localClock(), this.lastProposedStamp)
    this.lastProposedStamp = stamp
    const groups = inChunks(items, this.env.cfg.maxItemsPerEntry)
    const data = groups.map((g) => {
      const batch: CommandBatch = {
        stamp,
        policy: this.env.cfg.policy,
        items: g.map(({ req }): BatchItem => ({ key: req.key, cost: req.cost, requestId: req.requestId })),
      }
      return encodeCommandBatch(batch)
    })
    const r = core.propose(data)
    if (!r.ok) {
      for (const p of items) p.reply({ ok: false, error: 'not_leader' })
      return
    }
    const t = this.env.trace
    groups.forEach((g, i) => {
      this.proposals.set(r.firstIndex + i, { term: r.term, items: g })
      t.on && t.log(`${this.id} propose ${r.firstIndex + i}@${r.term} ${g.map(({ req }) => `${req.requestId} ${req.key}x${req.cost}`).join(', ')} stamp=+${stamp - EPOCH_MS}`)
    })
    this.pump()
  }

  // ---- the Ready loop ---------------------------------------------------------

  private pump(): void {
    const core = this.core
    if (core === null) return
    while (this.alive && core.hasReady()) {
      const rd = core.ready()
      this.env.observer.onReady(this, core, rd)
      const hook = this.crashHook
      if (hook !== null && hook.point.startsWith('before-') && this.hookMatches(hook.point, rd)) {
        // A real driver sends `messages` before its write: they may be out already.
        for (const m of rd.messages) if (!hook.partialSend || this.env.chance(0.5)) this.sendRaft(m)
        this.powerOff(`hook ${hook.point}`)
        this.env.crashedByHook(this, hook.point, hook.restartAfterMs)
        return
      }
      if (rd.snapshot !== null) {
        this.installs++
        this.restore(rd.snapshot, this.env.cfg.bugs.includes('snapshot_not_restored'))
      }
      if (!this.env.cfg.bugs.includes('messages_wait_for_disk')) for (const m of rd.messages) this.sendRaft(m)
      for (const rs of rd.readStates) {
        const r = this.reads.get(rs.ctx)
        if (r === undefined) continue
        this.reads.delete(rs.ctx)
        this.waiting.push({ index: rs.index, key: r.key, reply: r.reply })
      }
      for (const ctx of rd.droppedReads) {
        const r = this.reads.get(ctx)
        if (r === undefined) continue
        this.reads.delete(ctx)
        r.reply({ ok: false, error: 'read_dropped' })
      }
      this.serveReads()
      const inc = this.incarnation
      this.disk.write(rd.hardState, rd.entries, () => this.onSynced(inc, rd), rd.snapshot)
    }
    this.env.observer.afterStep(this)
  }

  private onSynced(inc: number, rd: Ready): void {
    const core = this.core
    if (core === null || inc !== this.incarnation) return
    const hook = this.crashHook
    if (hook !== null && hook.point.startsWith('after-') && this.hookMatches(hook.point, rd)) {
      this.powerOff(`hook ${hook.point}`)
      this.env.crashedByHook(this, hook.point, hook.restartAfterMs)
      return
    }
    if (this.env.cfg.bugs.includes('messages_wait_for_disk')) for (const m of rd.messages) this.sendRaft(m)
    for (const m of rd.persistedMessages) this.sendRaft(m)
    core.advance(rd)
    if (this.rejoin && !core.rejoining) this.rejoin = false
    // Entries a snapshot restored meanwhile already covers are not applied again.
    for (const e of rd.committed) if (e.index > this.applied) this.apply(e)
    this.maybeCompact(core)
    this.serveReads()
    this.pump()
  }

  /** Like the real driver: the core names a snapshot, the bytes come from the synced one on disk. */
  private sendRaft(m: Message): void {
    if (m.type !== 'snapshot') {
      this.env.sendRaft(m)
      return
    }
    const stored = this.disk.snapshot
    if (stored === null) return
    this.env.sendRaft(storedSnapshotMessage(m, stored))
  }

  private restore(snapshot: Snapshot, keepStateMachine = false): void {
    if (!keepStateMachine) this.sm = RateLimitStateMachine.restore(snapshot.data, { dedupTtlMs: this.env.cfg.dedupTtlMs, dedupMinApplies: this.env.cfg.dedupMinApplies })
    this.applied = snapshot.index
    this.env.observer.onRestore(this, snapshot.index)
    const t = this.env.trace
    t.on && t.log(`${this.id} restore snapshot @${snapshot.index}/${snapshot.term}`)
    // Proposals the snapshot covers were decided elsewhere; their clients time out (outcome unknown).
    for (const i of this.proposals.keys()) if (i <= snapshot.index) this.proposals.delete(i)
  }

  /** Snapshot + compaction once the log since the last snapshot reaches cfg.snapshotEvery. */
  private maybeCompact(core: RaftCore): void {
    const every = this.env.cfg.snapshotEvery
    if (every <= 0 || this.compacting) return
    const st = core.status()
    if (st.applied - st.snapshotIndex < every || this.applied !== st.applied) return
    const index = st.applied
    const term = core.termAt(index)
    if (term === undefined) return
    this.compacting = true
    const inc = this.incarnation
    const config = core.configAt(index)
    const data = this.sm.snapshot()
    const snapshot: Snapshot = config === undefined ? { index, term, data } : { index, term, config, data }
    this.disk.compact(snapshot, () => {
      if (inc !== this.incarnation || this.core !== core) return
      this.compacting = false
      core.compact(index)
      const t = this.env.trace
      t.on && t.log(`${this.id} compacted to ${index}`)
    })
  }

  private hookMatches(point: CrashPoint, rd: Ready): boolean {
    switch (point) {
      case 'before-hardstate-write':
      case 'after-hardstate-write':
        return rd.hardState !== null
      case 'before-entries-write':
      case 'after-entries-write':
        return rd.entries.length > 0
      case 'before-vote-write':
        return rd.hardState !== null && rd.hardState.vote !== null && rd.hardState.vote !== this.id
    }
  }

  private apply(e: Entry): void {
    this.env.observer.onApply(this, e)
    this.applied = e.index
    let replies: Reply[] = []
    if (e.kind === 'cmd') {
      const decoded = decodeCommandBatch(e.data)
      // The broken variant: apply reads the replica's own clock instead of the leader's stamp.
      const batch = this.env.cfg.bugs.includes('apply_reads_local_clock') ? { ...decoded, stamp: this.localClock() } : decoded
      const stampOf = this.env.stampOf
      const decisions = this.sm.applyBatch(batch)
      // The batch's items share one stamp, so the machine's time after the batch is each one's.
      replies = decisions.map((d, i) => {
        const rid = batch.items[i]?.requestId ?? ''
        if (!d.duplicate && !stampOf.has(rid)) stampOf.set(rid, this.sm.lastStamp)
        return { ok: true, admitted: d.admitted, remaining: d.remaining, stamp: stampOf.get(rid) ?? this.sm.lastStamp }
      })
    }
    if (this.env.observer.wantsHash(e.index)) this.env.observer.onHash(this, e.index, this.sm.stateHash())
    const p = this.proposals.get(e.index)
    if (p === undefined) return
    this.proposals.delete(e.index)
    // Only the entry we proposed, in the term we proposed it, answers the client.
    if (p.term !== e.term) return
    p.items.forEach((item, i) => {
      const reply = replies[i]
      if (reply !== undefined) item.reply(reply)
    })
  }

  private serveReads(): void {
    if (this.waiting.length === 0) return
    const still: WaitingRead[] = []
    for (const w of this.waiting) {
      if (w.index > this.applied) {
        still.push(w)
        continue
      }
      const now = this.localClock()
      const d = this.sm.check(w.key, now, this.env.cfg.policy)
      w.reply({ ok: true, admitted: d.admitted, remaining: d.remaining, stamp: Math.max(now, this.sm.lastStamp) })
    }
    this.waiting = still
  }
}
