// A tiny synchronous harness for driving RaftCore instances in unit tests:
// messages sit in a queue until delivered, persistence is instant, and every
// node's durable state is kept so a node can be "restarted" from it.
import { RaftCore } from '../../src/raft/core.js'
import { storedSnapshotMessage } from '../../src/raft/install-snapshot.js'
import type { Entry, HardState, Message, NodeId, RaftConfig, Ready, Snapshot } from '../../src/raft/types.js'

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 4294967296
  }
}

interface Disk {
  hardState: HardState
  entries: Entry[]
  snapshot: Snapshot | null
}

export class RaftNet {
  readonly nodes = new Map<NodeId, RaftCore>()
  readonly disks = new Map<NodeId, Disk>()
  readonly applied = new Map<NodeId, Entry[]>()
  /** Commands restored from a snapshot, before those in `applied` (the toy state machine is the list of applied commands). */
  readonly base = new Map<NodeId, string[]>()
  /** Snapshots received and stored, per node. */
  readonly installs = new Map<NodeId, number>()
  readonly readStates = new Map<NodeId, { ctx: string; index: number }[]>()
  readonly dropped = new Map<NodeId, string[]>()
  queue: Message[] = []
  /** Links that drop everything: "a>b" drops messages from a to b. */
  readonly cut = new Set<string>()
  readonly down = new Set<NodeId>()
  private restarts = 0
  /** Every node in the net, including those added later with addNode(). */
  readonly ids: NodeId[]
  /** The voters every node starts with (the initial configuration). */
  readonly initialVoters: readonly NodeId[]
  /** Nodes added at runtime start as learners of the initial configuration until their log says otherwise. */
  private readonly joined = new Set<NodeId>()

  constructor(ids: NodeId[], private readonly overrides: Partial<RaftConfig> = {}, seed = 1) {
    this.ids = [...ids]
    this.initialVoters = [...ids]
    const rnd = seededRandom(seed)
    for (const id of ids) {
      this.disks.set(id, { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null })
      this.applied.set(id, [])
      this.readStates.set(id, [])
      this.dropped.set(id, [])
      this.start(id, rnd)
    }
  }

  config(id: NodeId, random: () => number): RaftConfig {
    return {
      id,
      voters: this.initialVoters,
      ...(this.joined.has(id) ? { learners: [id] } : {}),
      electionTicks: 10,
      heartbeatTicks: 1,
      maxInflight: 4,
      maxBatchEntries: 64,
      preVote: true,
      checkQuorum: true,
      random,
      ...this.overrides,
    }
  }

  start(id: NodeId, random: () => number = seededRandom(hashId(id) + this.restarts++), extra: Partial<RaftConfig> = {}): RaftCore {
    const disk = this.disks.get(id) as Disk
    const s = disk.snapshot
    const snapshot = s === null ? null : s.config === undefined ? { index: s.index, term: s.term } : { index: s.index, term: s.term, config: s.config }
    const core = new RaftCore({ ...this.config(id, random), ...extra }, { hardState: disk.hardState, entries: disk.entries.slice(), snapshot })
    this.nodes.set(id, core)
    this.applied.set(id, [])
    this.base.set(id, disk.snapshot === null ? [] : (JSON.parse(disk.snapshot.data) as string[]))
    this.down.delete(id)
    return core
  }

  /** Adds a node with an empty disk (not yet a member: the leader must add it as a learner). */
  addNode(id: NodeId, extra: Partial<RaftConfig> = {}): RaftCore {
    if (this.disks.has(id)) throw new Error(`node ${id} exists`)
    this.ids.push(id)
    this.joined.add(id)
    this.disks.set(id, { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null })
    this.readStates.set(id, [])
    this.dropped.set(id, [])
    return this.start(id, undefined, extra)
  }

  crash(id: NodeId): void {
    this.down.add(id)
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id)
  }

  /** Crashes `id`, loses its whole disk, and starts it again with `rejoin` (as INITIAL_CLUSTER_STATE=existing does). */
  wipeAndRejoin(id: NodeId): RaftCore {
    this.crash(id)
    this.disks.set(id, { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null })
    return this.start(id, undefined, { rejoin: true })
  }

  node(id: NodeId): RaftCore {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue
      this.cut.add(`${id}>${other}`)
      this.cut.add(`${other}>${id}`)
    }
  }

  heal(): void {
    this.cut.clear()
  }

  /** Processes every node's Ready: persist instantly, queue messages, record applies. */
  flush(): void {
    for (const [id, core] of this.nodes) {
      if (this.down.has(id)) continue
      while (core.hasReady()) {
        const rd = core.ready()
        this.persist(id, rd)
        if (rd.snapshot !== null) {
          // Restore the toy state machine: what the snapshot holds, nothing applied after it yet.
          this.base.set(id, JSON.parse(rd.snapshot.data) as string[])
          this.applied.set(id, [])
          this.installs.set(id, (this.installs.get(id) ?? 0) + 1)
        }
        this.queue.push(...this.withSnapshotData(id, rd.messages), ...rd.persistedMessages)
        core.advance(rd)
        this.applied.get(id)?.push(...rd.committed)
        this.readStates.get(id)?.push(...rd.readStates)
        this.dropped.get(id)?.push(...rd.droppedReads)
      }
    }
  }

  /** Like a driver: the core names a snapshot, the bytes come from this node's stored one. */
  private withSnapshotData(id: NodeId, messages: readonly Message[]): Message[] {
    const stored = (this.disks.get(id) as Disk).snapshot
    return messages.map((m) => (m.type === 'snapshot' && stored !== null ? storedSnapshotMessage(m, stored) : m))
  }

  /** Takes a snapshot of `id`'s applied state, stores it and compacts the log up to it. */
  compact(id: NodeId): number {
    const core = this.node(id)
    const index = core.status().applied
    const term = core.termAt(index)
    if (term === undefined) throw new Error(`${id}: no term at applied index ${index}`)
    const disk = this.disks.get(id) as Disk
    const config = core.configAt(index)
    disk.snapshot = { index, term, data: JSON.stringify(this.appliedData(id)), ...(config === undefined ? {} : { config }) }
    disk.entries = disk.entries.filter((e) => e.index > index)
    core.compact(index)
    return index
  }

  private persist(id: NodeId, rd: Ready): void {
    const disk = this.disks.get(id) as Disk
    if (rd.snapshot !== null) {
      disk.snapshot = rd.snapshot
      disk.entries = []
    }
    if (rd.hardState !== null) disk.hardState = rd.hardState
    const first = rd.entries[0]
    if (first !== undefined) {
      const offset = disk.snapshot?.index ?? 0
      disk.entries.length = Math.max(0, Math.min(disk.entries.length, first.index - 1 - offset))
      disk.entries.push(...rd.entries)
    }
  }

  /** Delivers queued messages (and whatever they cause) until the network is quiet. */
  stabilize(maxRounds = 1000): void {
    this.flush()
    for (let round = 0; round < maxRounds && this.queue.length > 0; round++) {
      const batch = this.queue
      this.queue = []
      for (const m of batch) this.deliver(m)
      this.flush()
    }
  }

  deliver(m: Message): void {
    if (this.down.has(m.to) || this.down.has(m.from) || this.cut.has(`${m.from}>${m.to}`)) return
    this.nodes.get(m.to)?.step(m)
  }

  /**
   * Followers learn a commit index from the next entries sent, or from an
   * empty append at the leader's next tick: one leader tick, then quiet.
   */
  notifyCommits(): void {
    for (const id of this.leaders()) this.node(id).tick()
    this.stabilize()
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).tick()
    this.flush()
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const [id, core] of this.nodes) if (!this.down.has(id)) core.tick()
      this.stabilize()
    }
  }

  /** Ticks `id` until it campaigns, then lets the election finish. */
  elect(id: NodeId): void {
    for (let i = 0; i < 100 && this.node(id).currentRole !== 'leader'; i++) {
      this.node(id).tick()
      this.stabilize()
    }
    if (this.node(id).currentRole !== 'leader') throw new Error(`${id} did not become leader`)
  }

  leaders(): NodeId[] {
    return this.ids.filter((id) => !this.down.has(id) && this.node(id).currentRole === 'leader')
  }

  /** Ticks every live node, one tick at a time, until one of `among` leads; null if none does within `ticks`. */
  leaderWithin(ticks: number, among: readonly NodeId[]): NodeId | null {
    for (let i = 0; i < ticks; i++) {
      this.tickAll()
      this.stabilize()
      const l = this.leaders().find((id) => among.includes(id))
      if (l !== undefined) return l
    }
    return null
  }

  propose(id: NodeId, ...data: string[]): void {
    const r = this.node(id).propose(data)
    if (!r.ok) throw new Error(`${id} refused a proposal`)
    this.stabilize()
    this.notifyCommits()
  }

  appliedData(id: NodeId): string[] {
    const after = (this.applied.get(id) ?? []).filter((e) => e.kind === 'cmd').map((e) => e.data)
    return [...(this.base.get(id) ?? []), ...after]
  }
}

function hashId(id: string): number {
  let h = 2166136261
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0
  return h
}
