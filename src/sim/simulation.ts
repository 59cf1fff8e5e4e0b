// One simulated cluster: N real RaftCores and RateLimitStateMachines behind
// simulated drivers, disks, clocks and a network, plus the clients, all on one
// event queue and one seeded PRNG. Faults are methods called by a schedule;
// invariants run after every event; `finish()` heals, settles and runs the
// end-of-run checks (liveness, convergence, durability, linearizability).
import type { ClusterConfig, Message, NodeId } from '../raft/types.js'
import { decodeCommandBatch } from '../ratelimit/command-batch.js'
import { EventQueue } from './event-queue.js'
import { AdmissionWatch, checkDurability, checkLinearizable, type FinalLog, type LinearizabilityStats } from './history-checks.js'
import { Invariants } from './invariants.js'
import { SimNetwork, type LinkFaults } from './network.js'
import { Prng } from './prng.js'
import { SimNode, type NodeEnv } from './sim-node.js'
import { Trace } from './trace.js'
import { SimViolation, type CrashPoint, type IncrementRequest, type Reply, type SimConfig } from './types.js'
import { Workload, type SimOp } from './workload.js'

/** Normal runs stay under 300 pending events (every scenario on 3 and 5 nodes, 60 seeds each). */
const MAX_PENDING_EVENTS = 20_000

export class Simulation {
  readonly queue = new EventQueue()
  readonly prng: Prng
  readonly trace: Trace
  /** Every node: the initial voters, then the spares (not in the initial configuration). */
  readonly ids: NodeId[]
  readonly initialVoters: readonly NodeId[]
  readonly nodes: SimNode[]
  readonly net: SimNetwork
  readonly inv: Invariants
  readonly workload: Workload
  readonly baseFaults: LinkFaults
  /** Scenario assertions run after every event. */
  readonly watchers: (() => void)[] = []
  /** Scenario taps on every Raft message sent. */
  readonly taps: ((m: Message) => void)[] = []
  /** Scenario checks run whenever a client op closes. */
  readonly opWatchers: ((op: SimOp) => void)[] = []
  /** The committed log read at the end of finish(), for scenario checks. */
  finalCommitted: FinalLog | null = null
  crashes = 0
  lin: LinearizabilityStats | null = null
  private readonly byId = new Map<NodeId, SimNode>()
  /** requestId -> effective stamp of its first apply (the same on every replica). */
  private readonly stampOf = new Map<string, number>()
  private readonly admission: AdmissionWatch
  /** Nodes stopped for good (removed from the cluster); never restarted. */
  private readonly retired = new Set<NodeId>()

  constructor(readonly cfg: SimConfig) {
    this.prng = new Prng(cfg.seed)
    this.trace = new Trace(cfg.trace, () => this.queue.now)
    this.ids = Array.from({ length: cfg.nodes + cfg.spares }, (_, i) => `n${i + 1}`)
    this.initialVoters = this.ids.slice(0, cfg.nodes)
    this.baseFaults = { drop: 0, duplicate: 0, delayMin: cfg.netDelay[0], delayMax: cfg.netDelay[1] }
    this.net = new SimNetwork(this.queue, this.prng.fork(), this.ids, this.baseFaults)
    this.inv = new Invariants(32, (id) => this.byId.get(id)?.disk.history)
    const env = this.env()
    this.nodes = this.ids.map((id) => this.newNode(id, env))
    for (const n of this.nodes) {
      this.byId.set(n.id, n)
      n.clockOffset = this.prng.int(-cfg.maxSkewMs, cfg.maxSkewMs)
    }
    this.admission = new AdmissionWatch(cfg.policy)
    this.workload = new Workload(this.queue, this.prng.fork(), cfg, this.ids, (node, op, reply) => this.clientRequest(node, op, reply), this.trace)
    this.workload.onClose = (op) => {
      this.admission.onClose(op)
      for (const w of this.opWatchers) w(op)
    }
  }

  /**
   * A spare starts as a production node joining a running cluster does: an
   * empty disk, `rejoin` (no vote, no campaign until caught up) and the initial
   * voters plus itself as its configuration until its log says otherwise.
   */
  private newNode(id: NodeId, env: NodeEnv): SimNode {
    if (this.initialVoters.includes(id)) return new SimNode(id, env, this.initialVoters)
    const n = new SimNode(id, env, [...this.initialVoters, id])
    n.rejoin = true
    return n
  }

  private env(): NodeEnv {
    const diskPrng = this.prng.fork()
    const hookPrng = this.prng.fork()
    return {
      queue: this.queue,
      trace: this.trace,
      cfg: this.cfg,
      observer: this.inv_(),
      sendRaft: (m) => this.sendRaft(m),
      forward: (from, to, fid, req) => this.forward(from, to, fid, req),
      forwardReply: (from, to, fid, r) => this.forwardReply(from, to, fid, r),
      newRandom: () => {
        const p = this.prng.fork()
        return () => p.float()
      },
      crashedByHook: (node, point, restartAfterMs) => this.afterHookCrash(node, point, restartAfterMs),
      diskLatency: (node) => {
        const [lo, hi] = node.slowDisk ?? this.cfg.diskLatency
        return diskPrng.int(lo, hi)
      },
      chance: (p) => hookPrng.chance(p),
      stampOf: this.stampOf,
    }
  }

  /** The observer exists before `inv` is assigned in the constructor; late-bind it. */
  private inv_(): NodeEnv['observer'] {
    return {
      onReady: (n, c, rd) => this.inv.onReady(n, c, rd),
      onApply: (n, e) => this.inv.onApply(n, e),
      onRestore: (n, i) => this.inv.onRestore(n, i),
      wantsHash: (i) => this.inv.wantsHash(i),
      onHash: (n, i, h) => this.inv.onHash(n, i, h),
      afterStep: (n) => {
        this.inv.afterStep(n)
        if (this.trace.on) this.traceRole(n)
      },
    }
  }

  private readonly lastRole = new Map<NodeId, string>()

  /** Trace role, term and leader changes (state changes, next to the messages). */
  private traceRole(n: SimNode): void {
    const c = n.core
    if (c === null) return
    const view = `${c.currentRole} term=${c.currentTerm} leader=${c.currentLeader ?? '-'}`
    if (this.lastRole.get(n.id) === view) return
    this.lastRole.set(n.id, view)
    this.trace.log(`${n.id} is ${view}`)
  }

  node(id: NodeId): SimNode {
    const n = this.byId.get(id)
    if (n === undefined) throw new Error(`sim: no node ${id}`)
    return n
  }

  get now(): number {
    return this.queue.now
  }

  // ---- transport -----------------------------------------------------------

  private sendRaft(m: Message): void {
    const t = this.trace
    t.on && t.log(`${m.from}->${m.to} ${describeMessage(m)}`)
    for (const tap of this.taps) tap(m)
    this.net.send(
      m.from,
      m.to,
      () => {
        const n = this.node(m.to)
        if (n.alive) n.receive(m)
      },
      (why) => {
        t.on && t.log(`${m.from}->${m.to} LOST(${why}) ${m.type}`)
        // A real transfer fails visibly (connection error); the driver tells the core.
        if (m.type === 'snapshot') {
          const sender = this.node(m.from)
          if (sender.alive) sender.snapshotFailed(m.to)
        }
      },
    )
  }

  private forward(from: NodeId, to: NodeId, fid: number, req: IncrementRequest): void {
    const t = this.trace
    t.on && t.log(`${from}->${to} forward#${fid} ${req.requestId}`)
    this.net.send(from, to, () => {
      const n = this.node(to)
      if (n.alive) n.onForward(from, fid, req)
    })
  }

  private forwardReply(from: NodeId, to: NodeId, fid: number, r: Reply): void {
    const t = this.trace
    t.on && t.log(`${from}->${to} forward_reply#${fid} ${r.ok ? `ok admitted=${r.admitted}` : r.error}`)
    this.net.send(from, to, () => {
      const n = this.node(to)
      if (n.alive) n.onForwardReply(fid, r)
    })
  }

  private clientRequest(node: NodeId, op: SimOp, reply: (r: Reply) => void): void {
    const n = this.node(node)
    if (!n.alive) return
    if (op.kind === 'increment') n.increment({ key: op.key, cost: op.cost, requestId: op.requestId }, reply)
    else n.check(op.key, reply)
  }

  // ---- faults --------------------------------------------------------------

  leader(): SimNode | null {
    let best: SimNode | null = null
    for (const n of this.nodes) {
      if (n.core === null || n.core.currentRole !== 'leader') continue
      if (best === null || (best.core?.currentTerm ?? 0) < n.core.currentTerm) best = n
    }
    return best
  }

  alive(): SimNode[] {
    return this.nodes.filter((n) => n.alive)
  }

  crash(id: NodeId, why = 'crash'): void {
    const n = this.node(id)
    if (!n.alive) return
    this.crashes++
    n.powerOff(why)
  }

  restart(id: NodeId): void {
    const n = this.node(id)
    if (n.alive || this.retired.has(id)) return
    n.start()
  }

  /** Stops a node for good, as an operator decommissions a removed member. */
  retire(id: NodeId): void {
    this.retired.add(id)
    this.crash(id, 'retired')
    const t = this.trace
    t.on && t.log(`${id} RETIRED`)
  }

  isRetired(id: NodeId): boolean {
    return this.retired.has(id)
  }

  // ---- membership ------------------------------------------------------------

  /** The newest committed configuration (the initial one until a change commits). */
  committedConfig(): ClusterConfig {
    return this.inv.committedConfig ?? { voters: this.initialVoters, learners: [] }
  }

  /** Voters of the committed configuration and of the leader's (maybe pending) one, in id order. */
  voterIds(): NodeId[] {
    const pending = this.leader()?.core?.status().voters ?? []
    const committed = this.committedConfig().voters
    return this.ids.filter((id) => committed.includes(id) || pending.includes(id))
  }

  /** Like voterIds(), learners included: the nodes the cluster replicates to. */
  memberIds(): NodeId[] {
    const st = this.leader()?.core?.status()
    const c = this.committedConfig()
    const inAny = (id: NodeId): boolean =>
      c.voters.includes(id) || c.learners.includes(id) || st?.voters.includes(id) === true || st?.learners.includes(id) === true
    return this.ids.filter(inAny)
  }

  /** True while the leader's log holds a configuration that is not committed yet. */
  changePending(): boolean {
    const st = this.leader()?.core?.status()
    if (st === undefined) return false
    const c = this.committedConfig()
    return !sameMembers(st.voters, c.voters) || !sameMembers(st.learners, c.learners)
  }

  /** Crashes `id` now and restarts it after `downMs`. */
  crashFor(id: NodeId, downMs: number, why = 'crash'): void {
    const n = this.node(id)
    if (!n.alive) return
    this.crash(id, why)
    const inc = n.incarnation
    this.queue.after(downMs, () => {
      if (!n.alive && n.incarnation === inc) this.restart(id)
    })
  }

  /** Kills `id`, destroys its disk and restarts it empty, as a node rejoining after data loss. */
  wipeFor(id: NodeId, downMs: number): void {
    const n = this.node(id)
    if (!n.alive) return
    this.crash(id, 'wipe')
    n.disk.wipe()
    n.rejoin = true
    const inc = n.incarnation
    this.queue.after(downMs, () => {
      if (!n.alive && n.incarnation === inc) this.restart(id)
    })
  }

  armCrash(id: NodeId, point: CrashPoint, restartAfterMs: number, partialSend = false): void {
    const n = this.node(id)
    if (!n.alive) return
    n.crashHook = { point, restartAfterMs, partialSend }
    const t = this.trace
    t.on && t.log(`${id} armed ${point}${partialSend ? ' (partial send)' : ''}`)
  }

  private afterHookCrash(n: SimNode, _point: CrashPoint, restartAfterMs: number): void {
    this.crashes++
    const inc = n.incarnation
    this.queue.after(restartAfterMs, () => {
      if (!n.alive && n.incarnation === inc) this.restart(n.id)
    })
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    this.net.partition(groups)
    const t = this.trace
    t.on && t.log(`PARTITION ${groups.map((g) => g.join('+')).join(' | ')}`)
  }

  isolate(id: NodeId): void {
    this.net.isolate(id)
    const t = this.trace
    t.on && t.log(`ISOLATE ${id}`)
  }

  rejoin(id: NodeId): void {
    this.net.rejoin(id)
    const t = this.trace
    t.on && t.log(`REJOIN ${id}`)
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.net.cutOneWay(from, to)
    const t = this.trace
    t.on && t.log(`CUT ${from}->${to}`)
  }

  heal(): void {
    this.net.heal()
    const t = this.trace
    t.on && t.log('HEAL network')
  }

  setLinkFaults(f: LinkFaults): void {
    this.net.faults = f
    const t = this.trace
    t.on && t.log(`LINKS drop=${f.drop} dup=${f.duplicate} delay=${f.delayMin}..${f.delayMax}`)
  }

  clockJump(id: NodeId, deltaMs: number): void {
    const n = this.node(id)
    n.clockOffset += deltaMs
    const t = this.trace
    t.on && t.log(`${id} CLOCK ${deltaMs > 0 ? '+' : ''}${deltaMs}ms (offset ${n.clockOffset})`)
  }

  setSlowDisk(id: NodeId, range: readonly [number, number] | null): void {
    this.node(id).slowDisk = range
    const t = this.trace
    t.on && t.log(`${id} DISK ${range === null ? 'normal' : `slow ${range[0]}..${range[1]}ms`}`)
  }

  // ---- running ---------------------------------------------------------------

  /** Starts every node and the clients (which stop issuing at workloadMs). */
  begin(): void {
    for (const n of this.nodes) n.start()
    this.workload.start(this.cfg.workloadMs)
  }

  runUntil(t: number): void {
    const watchers = this.watchers
    this.queue.runUntil(t, () => {
      // Runs keep a few hundred events pending; a message storm grows without
      // bound and would otherwise hang the run instead of failing it.
      if (this.queue.size > MAX_PENDING_EVENTS) {
        throw new SimViolation('message-storm', `${this.queue.size} events pending (over ${MAX_PENDING_EVENTS}): messages multiply faster than they are handled`)
      }
      for (const w of watchers) w()
    })
  }

  /** Removes every fault: links, partitions, slow disks, armed crashes; restarts dead nodes. */
  healAll(): void {
    this.heal()
    this.setLinkFaults(this.baseFaults)
    for (const n of this.nodes) {
      n.slowDisk = null
      n.crashHook = null
      if (!n.alive) this.restart(n.id)
    }
  }

  /**
   * End of run: heal, settle, then liveness (a leader, a final increment
   * succeeds), convergence, durability and linearizability.
   */
  finish(): void {
    this.admission.checkAll()
    this.healAll()
    this.runUntil(this.now + this.cfg.settleMs)
    const final = this.finalIncrement()
    if (final.outcome === 'unknown') {
      const leader = this.leader()
      throw new SimViolation('liveness', `after healing and ${this.cfg.settleMs} ms the final increment was not acknowledged within 3 s (leader: ${leader?.id ?? 'none'})`)
    }
    const leader = this.checkConvergence()
    const log = this.finalLog(leader)
    this.finalCommitted = log
    this.admission.checkAll()
    checkDurability(this.workload.ops, log)
    this.lin = checkLinearizable(this.workload.ops, log, this.cfg.policy, this.cfg.linearizabilitySteps)
  }

  private finalIncrement(): SimOp {
    let done = false
    const op = this.workload.issue({
      clientId: -1,
      kind: 'increment',
      key: this.cfg.keys[0] ?? 'k',
      cost: 1,
      deadlineMs: 3000,
      onDone: () => {
        done = true
      },
    })
    const until = this.now + 3500
    while (!done && this.now < until) this.runUntil(Math.min(until, this.now + 50))
    return op
  }

  /**
   * After the final increment, a leader exists and every member of its
   * configuration applies the same log and holds the same state. Removed nodes
   * and spares never added receive nothing more, so they are not waited for.
   */
  private checkConvergence(): SimNode {
    const deadline = this.now + 2000
    const members = (): SimNode[] => {
      const st = this.leader()?.core?.status()
      if (st === undefined) return this.nodes
      return this.nodes.filter((n) => st.voters.includes(n.id) || st.learners.includes(n.id))
    }
    const settled = (): boolean => {
      const l = this.leader()
      if (l === null || l.core === null) return false
      const commit = l.core.status().commit
      return members().every((n) => n.alive && n.applied === commit)
    }
    while (!settled() && this.now < deadline) this.runUntil(this.now + 20)
    if (!settled()) {
      const view = this.nodes.map((n) => `${n.id}:${n.alive ? `applied=${n.applied} role=${n.core?.currentRole} term=${n.core?.currentTerm}` : 'down'}`)
      const why = this.leader() === null ? 'no leader' : 'replicas did not converge'
      throw new SimViolation('convergence', `${why} within 2 s of the final increment: ${view.join(' ')}`)
    }
    const converged = members()
    const first = converged[0]
    const hash = first?.sm.stateHash()
    for (const n of converged) {
      const h = n.sm.stateHash()
      if (h !== hash) throw new SimViolation('replica-state-hash', `at applied index ${n.applied}: ${n.id} has ${h}, ${first?.id} has ${hash}`)
    }
    const leader = this.leader()
    if (leader === null) throw new SimViolation('liveness', 'no leader after convergence')
    return leader
  }

  private finalLog(leader: SimNode): FinalLog {
    const core = leader.core
    const committed = new Map<string, number>()
    if (core === null) return { committed }
    const commit = core.status().commit
    // The leader may have compacted its log: read every entry ever committed, as recorded when it was.
    for (let i = 1; i <= commit; i++) {
      const e = this.inv.committedAt(i)
      if (e === undefined) throw new SimViolation('committed-log', `committed entry ${i} was never seen committed`)
      if (e.kind !== 'cmd') continue
      for (const { requestId: rid } of decodeCommandBatch(e.data).items) {
        if (rid === undefined || committed.has(rid)) continue
        committed.set(rid, this.stampOf.get(rid) ?? 0)
      }
    }
    return { committed }
  }
}

function sameMembers(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id))
}

export function describeMessage(m: Message): string {
  switch (m.type) {
    case 'append':
      return `append t${m.term} prev=${m.prevIndex}@${m.prevTerm} n=${m.entries.length}${m.entries.length > 0 ? ` [${m.entries[0]?.index}..${m.entries[m.entries.length - 1]?.index}]` : ''} commit=${m.commit}`
    case 'append_resp':
      return `append_resp t${m.term} ${m.reject ? `REJECT ${m.index} hint=${m.hintIndex}@${m.hintTerm}` : `ok ${m.index}`}`
    case 'vote':
    case 'prevote':
      return `${m.type} t${m.term} last=${m.lastIndex}@${m.lastTerm}`
    case 'vote_resp':
    case 'prevote_resp':
      return `${m.type} t${m.term} ${m.reject ? 'REJECT' : 'grant'}`
    case 'heartbeat':
      return `heartbeat t${m.term} commit=${m.commit} seq=${m.readSeq}`
    case 'heartbeat_resp':
      return `heartbeat_resp t${m.term} seq=${m.readSeq}`
    case 'read_index':
      return `read_index t${m.term} ${m.ctx}`
    case 'read_index_resp':
      return `read_index_resp t${m.term} ${m.ctx} ${m.reject ? 'REJECT' : `index=${m.index}`}`
    default: {
      // Message kinds added to the core later print generically.
      const other: { type: string; term: number } = m
      return `${other.type} t${other.term}`
    }
  }
}
