// The rate limiter as one cluster member: increments go through the Raft log
// (proposed here when leader, forwarded to the leader otherwise), checks are
// linearizable reads via ReadIndex, and every answer comes from the
// replicated state machine.
import { randomInt } from 'node:crypto'
import { formatHostPort, parseHostPort } from '../address.js'
import { inChunks } from '../chunks.js'
import { RateLimiterError, type ErrorCode } from '../errors.js'
import { isMember } from '../raft/config.js'
import type { ClusterConfig, ConfChange, ConfChangeRefusal, Entry, NodeId, ReadState, Snapshot } from '../raft/types.js'
import {
  decodeCommandBatch,
  encodeCommandBatch,
  RateLimitStateMachine,
  type BatchItem,
  type CommandBatch,
  type Decision,
  type Policy,
  type SnapshotLines,
  type StateMachineOptions,
} from '../ratelimit/index.js'
import type { ClusterStatus, IncrementInput, MembershipResult, RateDecision, RateLimiterService, TransferResult } from '../service.js'
import { neverSent, type ForwardOutcome, type PeerAddress, type Transport } from '../transport/port.js'
import { expireWaiters, type Waiter } from './deadline-queue.js'
import { toRateDecision } from './decision-view.js'
import { MembershipChanges } from './membership-changes.js'
import { PendingProposals } from './pending-proposals.js'
import type { RaftDriver } from './raft-driver.js'

export interface NodeLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface RateLimiterNodeOptions {
  readonly id: NodeId
  readonly policy: Policy
  readonly requestTimeoutMs: number
  readonly transport: Transport
  readonly logger: NodeLogger
  readonly now?: () => number
  /** How long an operator's transfer-leadership request waits for the new leader. */
  readonly transferTimeoutMs?: number
  /** Polling step while waiting for a transfer. */
  readonly tickMs?: number
  /** Testing only (FAILPOINT): called right after an increment for this client id that this node proposed is applied. */
  readonly failpoint?: { readonly clientId: string; readonly hit: () => void }
  /** Seeds the state machine's key index (see StateMachineOptions); random when absent. */
  readonly keyHashSeed?: number
}

interface IncrementRequest extends Waiter<RateDecision> {
  readonly input: IncrementInput
}

interface ReadBatch {
  readonly waiters: { key: string; w: Waiter<RateDecision> }[]
  index: number
}

/** Forward requests a follower keeps out to the leader at once (the transport opens as many connections per peer). */
const MAX_FORWARDS_IN_FLIGHT = 4
/** Increments in one log entry; a busier turn proposes several entries. Bounds an entry's size. */
const MAX_ITEMS_PER_ENTRY = 512

export class RateLimiterNode implements RateLimiterService {
  readonly burst: number
  private driver: RaftDriver | null = null
  private readonly smOptions: StateMachineOptions
  private sm: RateLimitStateMachine
  private readonly pending = new PendingProposals<IncrementRequest>((r, decision) => this.settleProposal(r, decision))
  private readonly now: () => number
  private lastStamp = 0
  private shuttingDown = false
  /** Raft (peer) address of every member, from the configuration in effect. */
  private addresses: ReadonlyMap<NodeId, string> = new Map()
  private loggedConfig: ClusterConfig | null = null
  /** False once the configuration this node follows no longer names it (it was removed); set on each change, read per request. */
  private member = true
  private readonly membership: MembershipChanges

  /** Increments waiting for a leader to be known, or for the next propose batch. */
  private awaitingLeader: IncrementRequest[] = []
  private toPropose: IncrementRequest[] = []
  private toForward: IncrementRequest[] = []
  private forwardsInFlight = 0
  /** Checks made this turn share one ReadIndex request. */
  private nextRead: ReadBatch | null = null
  private readSeq = 0
  private readonly readsInFlight = new Map<string, ReadBatch>()
  /** Confirmed reads waiting for the local state machine to catch up. */
  private readsToServe: ReadBatch[] = []

  constructor(private readonly opts: RateLimiterNodeOptions) {
    this.burst = opts.policy.burst
    this.now = opts.now ?? Date.now
    this.smOptions = { keyHashSeed: opts.keyHashSeed ?? randomInt(2 ** 32) }
    this.sm = new RateLimitStateMachine(this.smOptions)
    this.membership = new MembershipChanges(this.now)
  }

  attach(driver: RaftDriver): void {
    this.driver = driver
  }

  // ---- RateLimiterService --------------------------------------------------

  increment(input: IncrementInput): Promise<RateDecision> {
    return new Promise<RateDecision>((resolve, reject) => this.submit(input, resolve, reject))
  }

  /** increment() with callbacks: exactly one of them is called, possibly at once. */
  private submit(input: IncrementInput, resolve: (d: RateDecision) => void, reject: (err: unknown) => void): void {
    if (this.shuttingDown) return reject(new RateLimiterError('SHUTTING_DOWN'))
    if (!this.member) return reject(new RateLimiterError('REMOVED'))
    if (!Number.isInteger(input.cost) || input.cost < 1 || input.cost > this.burst) {
      return reject(new RateLimiterError('COST_EXCEEDS_BURST', `cost ${input.cost}, burst ${this.burst}`))
    }
    this.dispatch({ input, resolve, reject, deadline: this.now() + this.opts.requestTimeoutMs })
  }

  check(clientId: string): Promise<RateDecision> {
    if (this.shuttingDown) return Promise.reject(new RateLimiterError('SHUTTING_DOWN'))
    if (!this.member) return Promise.reject(new RateLimiterError('REMOVED'))
    return new Promise<RateDecision>((resolve, reject) => {
      let batch = this.nextRead
      if (batch === null) {
        batch = { waiters: [], index: 0 }
        this.nextRead = batch
        this.requireDriver().schedule()
      }
      batch.waiters.push({ key: clientId, w: { resolve, reject, deadline: this.now() + this.opts.requestTimeoutMs } })
    })
  }

  status(opts: { readonly hash?: boolean } = {}): ClusterStatus {
    const raft = this.requireDriver().status()
    return {
      node: this.opts.id,
      raft,
      leaderAddress: raft.leader === null ? null : (this.addresses.get(raft.leader) ?? null),
      ready: this.isReady(),
      buckets: this.sm.size,
      requestIds: this.sm.dedupSize,
      ...(opts.hash === true ? { stateHash: this.sm.stateHash() } : {}),
    }
  }

  async transferLeadership(to: NodeId | undefined): Promise<TransferResult> {
    const core = this.requireDriver().core
    if (core.currentRole !== 'leader') throw new RateLimiterError('NOT_LEADER', `leader is ${core.currentLeader ?? 'unknown'}`)
    if (to !== undefined && (to === this.opts.id || !core.clusterConfig.voters.includes(to))) {
      throw new RateLimiterError('UNKNOWN_NODE', to)
    }
    const moved = await this.handOffLeadership(this.opts.transferTimeoutMs ?? 2000, this.opts.tickMs ?? 10, to)
    const leader = core.currentLeader
    if (!moved || leader === null) throw new RateLimiterError('TRANSFER_FAILED')
    return { leader, term: core.currentTerm }
  }

  async changeMembership(change: ConfChange): Promise<MembershipResult> {
    const driver = this.requireDriver()
    const core = driver.core
    if (core.currentRole !== 'leader') throw new RateLimiterError('NOT_LEADER', `leader is ${core.currentLeader ?? 'unknown'}`)
    if (change.type === 'add_learner' && (change.address === undefined || typeof parseHostPort(change.address) === 'string')) {
      throw new RateLimiterError('INVALID_ADDRESS', change.address)
    }
    const timeoutMs = this.opts.requestTimeoutMs
    // Thesis §4.2.1: a new voter that still lacks entries would hold up commits.
    if (change.type === 'promote' && core.clusterConfig.learners.includes(change.id)) {
      await this.awaitCaughtUp(change.id, timeoutMs)
    }
    const r = core.proposeConfChange(change)
    if (!r.ok) throw refusalError(r.reason, r.leader)
    this.opts.logger.info({ change, index: r.index }, 'membership change proposed')
    driver.schedule()
    await this.membership.committed(r.index, r.term, this.now() + timeoutMs)
    const c = core.configAt(r.index) ?? core.clusterConfig
    return { index: r.index, voters: c.voters, learners: c.learners }
  }

  /**
   * Waits until the leader knows `id` holds every entry committed when asked
   * and, if it joined with `rejoin`, has caught up to the target it was given;
   * LEARNER_BEHIND if not in time.
   */
  private async awaitCaughtUp(id: NodeId, timeoutMs: number): Promise<void> {
    const core = this.requireDriver().core
    const target = core.status().commit
    const deadline = this.now() + timeoutMs
    for (;;) {
      const match = core.peerMatch(id)
      if (match === undefined) throw new RateLimiterError('NOT_LEADER', `leader is ${core.currentLeader ?? 'unknown'}`)
      const rejoining = core.peerRejoining(id)
      if (match >= target && !rejoining) return
      if (this.now() >= deadline) {
        throw new RateLimiterError('LEARNER_BEHIND', rejoining ? `${id} is still catching up after joining` : `${id} has ${match} of ${target}`)
      }
      await new Promise((r) => setTimeout(r, this.opts.tickMs ?? 10))
    }
  }

  isReady(): boolean {
    if (this.driver === null || this.shuttingDown) return false
    const s = this.driver.status()
    return s.leader !== null && s.applied >= s.commit && this.member
  }



  /** The leader side of a follower's forwarded batch. */
  handleForward(inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    return new Promise((resolve) => this.acceptForwarded(inputs, resolve))
  }

  /**
   * handleForward() with a callback, called once every increment has its
   * outcome. It runs inside the apply that decides the last one, not a few
   * promise hops later, so an answer sent from it leaves in the same peer
   * frame as the append that follows the commit.
   */
  acceptForwarded(inputs: readonly IncrementInput[], done: (outcomes: ForwardOutcome[]) => void): void {
    if (this.driver?.core.currentRole !== 'leader' || inputs.length === 0) {
      done(inputs.map(() => ({ ok: false, code: 'NO_LEADER' }) as const))
      return
    }
    const outcomes = new Array<ForwardOutcome | undefined>(inputs.length)
    let left = inputs.length
    const settle = (i: number, outcome: ForwardOutcome): void => {
      if (outcomes[i] !== undefined) return // a waiter is answered once; ignore a late second call
      outcomes[i] = outcome
      if (--left === 0) done(outcomes as ForwardOutcome[])
    }
    inputs.forEach((input, i) =>
      this.submit(
        input,
        (decision) => settle(i, { ok: true, decision }),
        (err: unknown) => settle(i, { ok: false, code: errorCodeOf(err) }),
      ),
    )
  }

  /**
   * Before a graceful stop: if leading, hand leadership to the most caught-up
   * peer and wait (serving meanwhile) until another node leads, so clients
   * see no election timeout. Gives up after `timeoutMs`.
   */
  async handOffLeadership(timeoutMs: number, tickMs: number, to?: NodeId): Promise<boolean> {
    const core = this.requireDriver().core
    if (core.currentRole !== 'leader') return false
    const target = to ?? [...core.status().progress].sort((a, b) => b.match - a.match)[0]?.id
    if (target === undefined || !core.transferLeadership(target)) return false
    this.requireDriver().schedule()
    const deadline = this.now() + timeoutMs
    while (this.now() < deadline) {
      await new Promise((r) => setTimeout(r, tickMs))
      const leader = core.currentLeader
      if (leader !== null && leader !== this.opts.id) {
        // Let everything this node holds commit under the new leader and reach its clients.
        while (this.hasWorkInFlight() && this.now() < deadline) await new Promise((r) => setTimeout(r, tickMs))
        return true
      }
    }
    return false
  }

  private hasWorkInFlight(): boolean {
    return (
      this.pending.size > 0 ||
      this.awaitingLeader.length > 0 ||
      this.toPropose.length > 0 ||
      this.toForward.length > 0 ||
      this.forwardsInFlight > 0
    )
  }

  /** Refuse new work; fail what is waiting. */
  shutdown(): void {
    this.shuttingDown = true
    this.rejectWaitingWork(new RateLimiterError('SHUTTING_DOWN'))
    // Already in the log: they may still commit, so their outcome is unknown, not refused.
    this.pending.rejectAll(new RateLimiterError('NO_QUORUM', 'node stopped before the outcome was known'))
    this.membership.rejectAll(new RateLimiterError('CHANGE_FAILED', 'node stopped before the outcome was known'))
  }

  // ---- driver hooks ----------------------------------------------------------

  /** Hands this turn's increments and reads to the core in one batch each. */
  beforeReady(): void {
    const driver = this.requireDriver()
    if (this.toPropose.length > 0) this.proposeBatch()
    if (this.toForward.length > 0) this.forwardBatch()
    const batch = this.nextRead
    if (batch !== null) {
      this.nextRead = null
      const ctx = `${this.opts.id}:${++this.readSeq}`
      this.readsInFlight.set(ctx, batch)
      driver.core.readIndex(ctx)
    }
  }

  /** Applies committed entries; returns the records they held (see DriverHooks.onApply). */
  onApply(entries: readonly Entry[]): number {
    let records = 0
    for (const e of entries) {
      let decisions: Decision[] | null = null
      if (e.kind === 'cmd') {
        try {
          // The leader's own entry holds what it encoded: apply that, skip the decode.
          const batch = this.pending.batchAt(e.index, e.term) ?? decodeCommandBatch(e.data)
          decisions = this.sm.applyBatch(batch)
          if (this.opts.failpoint !== undefined) this.checkFailpoint(e.index, batch, decisions)
        } catch (err) {
          // Deterministic on every replica: the whole entry is skipped everywhere.
          this.opts.logger.error({ err, index: e.index }, 'skipping an invalid command')
        }
      }
      this.pending.settle(e.index, e.term, decisions)
      records += decisions?.length ?? 1
      if (e.kind === 'config') this.membership.applied(e.index, e.term)
    }
    if (this.readsToServe.length > 0) this.serveReads()
    return records
  }

  /** FAILPOINT: this node proposed the entry, and it newly applied an increment for the failpoint's client id. */
  private checkFailpoint(index: number, batch: CommandBatch, decisions: readonly Decision[]): void {
    const fp = this.opts.failpoint
    if (fp === undefined || !this.pending.has(index)) return
    const hit = batch.items.some((item, i) => item.key === fp.clientId && decisions[i]?.duplicate === false)
    if (hit) fp.hit()
  }

  /** The leader sent a snapshot (or one was loaded at start): the state machine becomes it. */
  onRestore(snapshot: Snapshot): void {
    this.sm = RateLimitStateMachine.restore(snapshot.data, this.smOptions)
    this.pending.rejectThrough(snapshot.index, new RateLimiterError('NO_QUORUM', 'replaced by a snapshot before the outcome was known'))
    this.membership.rejectThrough(snapshot.index, new RateLimiterError('CHANGE_FAILED', 'replaced by a snapshot before the outcome was known'))
    if (this.readsToServe.length > 0) this.serveReads()
  }

  /**
   * Reach every member of the configuration in effect and of the applied one
   * (addresses travel in the log); see DriverHooks.onConfigChange.
   */
  onConfigChange(latest: ClusterConfig, applied: ClusterConfig, leaving: ReadonlySet<NodeId> = new Set()): void {
    this.member = isMember(latest, this.opts.id)
    // The latest address wins for a member that moved. A Map: ids are any NODE_ID, "__proto__" included.
    const book = new Map<NodeId, string>([...Object.entries(applied.addresses ?? {}), ...Object.entries(latest.addresses ?? {})])
    for (const id of leaving) {
      const known = this.addresses.get(id)
      if (known !== undefined && !book.has(id)) book.set(id, known)
    }
    const peers: PeerAddress[] = []
    for (const [id, text] of book) {
      const address = parseHostPort(text)
      // Validated before it was proposed; a bad one is skipped rather than trusted.
      if (typeof address === 'string') this.opts.logger.error({ id, address: text }, 'unusable member address in the configuration')
      else peers.push({ id, ...address })
    }
    if (peers.length === 0) return
    this.addresses = new Map(peers.map((p) => [p.id, formatHostPort(p)]))
    this.opts.transport.setPeers(peers)
    if (latest !== this.loggedConfig) {
      this.loggedConfig = latest
      this.opts.logger.info({ voters: latest.voters, learners: latest.learners }, 'cluster configuration in effect')
      // Removed: no leader sends this node the log again, so its reads could never
      // be served and its waiting increments never reach one. Proposals already
      // in the log keep their outcome.
      if (!this.member) this.rejectWaitingWork(new RateLimiterError('REMOVED'))
    }
  }

  /** Fails every increment not yet in the log and every read: none of them took effect. */
  private rejectWaitingWork(err: RateLimiterError): void {
    for (const r of [...this.awaitingLeader, ...this.toPropose, ...this.toForward]) r.reject(err)
    this.awaitingLeader = []
    this.toPropose = []
    this.toForward = []
    for (const b of [...this.readsInFlight.values(), ...this.readsToServe]) for (const x of b.waiters) x.w.reject(err)
    this.readsInFlight.clear()
    this.readsToServe = []
    if (this.nextRead !== null) for (const x of this.nextRead.waiters) x.w.reject(err)
    this.nextRead = null
  }

  /** The state machine's image at the index last applied: captured now, encoded a line per event-loop turn. */
  snapshotLines(): SnapshotLines {
    return this.sm.snapshotLines(() => new Promise<void>((resolve) => setImmediate(resolve)))
  }

  /** Buckets and remembered request ids: what a snapshot's size grows with. */
  stateEntries(): number {
    return this.sm.size + this.sm.dedupSize
  }

  onReadStates(states: readonly ReadState[]): void {
    for (const s of states) {
      const batch = this.readsInFlight.get(s.ctx)
      if (batch === undefined) continue
      this.readsInFlight.delete(s.ctx)
      batch.index = s.index
      this.readsToServe.push(batch)
    }
    this.serveReads()
  }

  onDroppedReads(ctxs: readonly string[]): void {
    for (const ctx of ctxs) {
      const batch = this.readsInFlight.get(ctx)
      if (batch === undefined) continue
      this.readsInFlight.delete(ctx)
      // Leadership is changing: ask again in the next turn, until the deadline.
      const retry = this.nextRead ?? { waiters: [], index: 0 }
      retry.waiters.push(...batch.waiters)
      this.nextRead = retry
    }
  }

  onTick(): void {
    const now = this.now()
    // Built only once something expires: an error captures a stack, and ticks never stop.
    let noQuorum: RateLimiterError | undefined
    const quorumLost = (): RateLimiterError => (noQuorum ??= new RateLimiterError('NO_QUORUM'))
    const noLeader = (): RateLimiterError => new RateLimiterError('NO_LEADER')
    this.pending.expire(now, (w) => w.reject(quorumLost()))
    this.membership.expire(now)
    this.awaitingLeader = expireWaiters(this.awaitingLeader, now, (w) => w.reject(noLeader()))
    for (const [ctx, batch] of this.readsInFlight) {
      if (dropExpired(batch, now, quorumLost) === 0) this.readsInFlight.delete(ctx)
    }
    if (this.nextRead !== null && dropExpired(this.nextRead, now, noLeader) === 0) {
      this.nextRead = null
    }
    if (this.awaitingLeader.length > 0 && this.requireDriver().core.currentLeader !== null) {
      const waiting = this.awaitingLeader
      this.awaitingLeader = []
      for (const r of waiting) this.dispatch(r)
    }
  }

  // ---- internals -----------------------------------------------------------

  private dispatch(req: IncrementRequest): void {
    const driver = this.requireDriver()
    const leader = driver.core.currentLeader
    if (leader === this.opts.id) {
      this.toPropose.push(req)
      driver.schedule()
    } else if (leader === null) {
      this.awaitingLeader.push(req)
    } else {
      this.toForward.push(req)
      driver.schedule()
    }
  }

  private proposeBatch(): void {
    const driver = this.requireDriver()
    const batch = this.toPropose
    this.toPropose = []
    // Stamps never go backwards, also across a change of leader.
    const stamp = Math.max(this.now(), this.lastStamp, this.sm.lastStamp)
    this.lastStamp = stamp
    const policy = this.opts.policy
    const groups = inChunks(batch, MAX_ITEMS_PER_ENTRY)
    const batches = groups.map((g): CommandBatch => ({ stamp, policy, items: g.map(({ input }) => itemOf(input)) }))
    const res = driver.core.propose(batches.map(encodeCommandBatch))
    if (!res.ok) {
      // Leadership is moving (lost, or being transferred): retry on the next tick.
      for (const r of batch) this.awaitingLeader.push(r)
      return
    }
    // The request itself is the pending waiter: no closure per increment.
    for (let i = 0; i < groups.length; i++) {
      this.pending.add(res.firstIndex + i, res.term, batches[i] as CommandBatch, groups[i] as IncrementRequest[])
    }
  }

  /** The entry of a proposal was applied (decision) or replaced by another leader's (null). */
  private settleProposal(r: IncrementRequest, decision: Decision | null): void {
    if (decision !== null) r.resolve(toRateDecision(decision))
    // Replaced by another leader's entry: it never happened, so it is safe to send again.
    else if (r.deadline > this.now()) this.dispatch(r)
    else r.reject(new RateLimiterError('NO_QUORUM'))
  }

  /**
   * All increments a follower received this turn travel to the leader in one
   * request. With MAX_FORWARDS_IN_FLIGHT requests out, the next turns' wait and
   * leave together when one returns: fewer, larger requests under load.
   */
  private forwardBatch(): void {
    const driver = this.requireDriver()
    const leader = driver.core.currentLeader
    const remote = leader !== null && leader !== this.opts.id
    if (remote && this.forwardsInFlight >= MAX_FORWARDS_IN_FLIGHT) return
    const batch = this.toForward
    this.toForward = []
    if (!remote) {
      for (const r of batch) this.dispatch(r)
      return
    }
    this.forwardsInFlight++
    const settled = (): void => {
      this.forwardsInFlight--
      if (this.toForward.length > 0) driver.schedule()
    }
    this.opts.transport.forward(leader, batch.map((r) => r.input)).finally(settled).then(
      (outcomes) => {
        for (let i = 0; i < batch.length; i++) {
          const req = batch[i] as IncrementRequest
          const o = outcomes[i]
          if (o === undefined) req.reject(new RateLimiterError('INTERNAL', 'short forward answer'))
          else if (o.ok) req.resolve(o.decision)
          // The peer proposed nothing (not leader, stopping, or removed): wait for the next leader.
          else if ((o.code === 'NO_LEADER' || o.code === 'SHUTTING_DOWN' || o.code === 'REMOVED') && req.deadline > this.now()) this.awaitingLeader.push(req)
          else req.reject(new RateLimiterError(o.code))
        }
      },
      (err: unknown) => {
        const e = err instanceof RateLimiterError ? err : new RateLimiterError('NO_QUORUM')
        const now = this.now()
        for (const r of batch) {
          // A refused connection never reached the leader: wait for the next one.
          // Anything else has an unknown outcome and is never retried blindly.
          if (neverSent(err) && r.deadline > now) this.awaitingLeader.push(r)
          else r.reject(e)
        }
      },
    )
  }

  private serveReads(): void {
    if (this.readsToServe.length === 0) return
    const applied = this.requireDriver().core.appliedIndex
    const now = this.now()
    const still: ReadBatch[] = []
    for (const b of this.readsToServe) {
      if (b.index > applied) {
        still.push(b)
        continue
      }
      for (const x of b.waiters) x.w.resolve(toRateDecision(this.sm.check(x.key, now, this.opts.policy)))
    }
    this.readsToServe = still
  }

  private requireDriver(): RaftDriver {
    if (this.driver === null) throw new Error('RateLimiterNode used before attach()')
    return this.driver
  }
}

/** Two literals rather than a conditional spread: no throwaway object per increment. */
function itemOf(input: IncrementInput): BatchItem {
  return input.requestId === undefined
    ? { key: input.clientId, cost: input.cost }
    : { key: input.clientId, cost: input.cost, requestId: input.requestId }
}

/** Rejects the batch's waiters past their deadline; returns how many remain. */
function dropExpired(batch: ReadBatch, now: number, errorOf: () => RateLimiterError): number {
  const live = batch.waiters.filter((x) => x.w.deadline > now)
  if (live.length !== batch.waiters.length) {
    const err = errorOf()
    for (const x of batch.waiters) if (x.w.deadline <= now) x.w.reject(err)
    batch.waiters.length = 0
    batch.waiters.push(...live)
  }
  return live.length
}


/** The core's reason for refusing a membership change, as the error a client sees. */
function refusalError(reason: ConfChangeRefusal, leader: NodeId | null): RateLimiterError {
  switch (reason) {
    case 'not_leader':
      return new RateLimiterError('NOT_LEADER', `leader is ${leader ?? 'unknown'}`)
    case 'transferring':
    case 'change_pending':
    case 'not_committed_in_term':
      return new RateLimiterError('CHANGE_IN_PROGRESS', reason)
    case 'already_member':
      return new RateLimiterError('MEMBER_EXISTS')
    case 'not_learner':
      return new RateLimiterError('NOT_LEARNER')
    case 'learner_rejoining':
      return new RateLimiterError('LEARNER_BEHIND', 'it has not yet learned how far it must catch up after joining')
    case 'not_member':
      return new RateLimiterError('NOT_MEMBER')
    case 'no_voters':
      return new RateLimiterError('LAST_VOTER')
    case 'address_required':
      return new RateLimiterError('INVALID_ADDRESS', 'required')
  }
}

function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof RateLimiterError ? err.code : 'INTERNAL'
}
