// The driver: the only place where time, disk and network meet the consensus
// core. It ticks the core on a timer, feeds it peer messages, and turns each
// Ready into one synced storage batch plus sends, in the order the Ready
// contract requires.
import { RaftCore } from '../raft/core.js'
import { storedSnapshotMessage } from '../raft/install-snapshot.js'
import type { ClusterConfig, Entry, InstallSnapshot, Message, NodeId, RaftConfig, RaftStatus, ReadState, Ready, RestoredState, Snapshot } from '../raft/types.js'
import type { LogStore } from '../storage/port.js'
import type { Transport } from '../transport/port.js'
import type { RoundTracer } from './round-trace.js'
import { snapshotDue } from './snapshot-due.js'

export interface DriverHooks {
  /**
   * Committed entries, in log order, each exactly once per process life.
   * Returns how many records they held (the increments of a command entry,
   * one for any other entry): the log's size for snapshotDue.
   */
  onApply(entries: readonly Entry[]): number
  onReadStates(states: readonly ReadState[]): void
  onDroppedReads(ctxs: readonly string[]): void
  /** Runs on every tick, after the core's. */
  onTick(): void
  /** Runs before each Ready is taken: the place to hand batched proposals to the core. */
  beforeReady(): void
  /** A write failed: the node can no longer promise durability and must stop. */
  onFatal(err: unknown): void
  /** Replace the state machine with a snapshot from the leader (before any later entry is applied). */
  onRestore(snapshot: Snapshot): void
  /**
   * The state machine's image at the index last applied, for a local snapshot:
   * captured when called, handed out a line at a time (ratelimit/snapshot.ts).
   * close() releases what the image holds of the state; the driver calls it
   * once the store is done with the lines, whether it read them all or not.
   */
  snapshotLines(): AsyncIterable<string> & { close(): void }
  /** How many records the state machine holds; a snapshot is taken only once the log outgrows it. */
  stateEntries(): number
  /** Snapshot events worth a log line: taken locally, sent to a follower, or failed to send. */
  onSnapshotEvent?(event: SnapshotEvent): void
  /**
   * Once at start, then whenever either changes: `latest` is the configuration
   * in effect (the log's latest, from the moment it is appended), `applied` the
   * one as of the applied index, `leaving` the removed followers a leader still
   * sends the log to. Runs before any message of `latest` is sent, so the
   * transport can reach new members; a removed member stays reachable until its
   * removal is applied (a leader that removed itself still needs the replies
   * that commit that) and, on the leader, until it has heard of its removal.
   */
  onConfigChange?(latest: ClusterConfig, applied: ClusterConfig, leaving: ReadonlySet<NodeId>): void
}

export type SnapshotEvent =
  | { readonly kind: 'compacted'; readonly index: number; readonly bytes: number; readonly ms: number }
  | { readonly kind: 'sent'; readonly to: NodeId; readonly index: number; readonly bytes: number; readonly ms: number }
  | { readonly kind: 'send_failed'; readonly to: NodeId; readonly error: unknown }

export interface DriverOptions {
  readonly raft: Omit<RaftConfig, 'random'>
  readonly tickMs: number
  readonly store: LogStore
  readonly transport: Transport
  readonly restored: RestoredState
  readonly hooks: DriverHooks
  readonly random?: () => number
  /**
   * Records applied after the last snapshot (see DriverHooks.onApply) that
   * trigger a new one (compacting the log), and at least a share of the
   * records the state machine holds so snapshot cost stays proportional to
   * the records it retires (snapshot-due.ts).
   */
  readonly snapshotEntries: number
  /** Wall clock for event durations only (never for Raft decisions). */
  readonly now?: () => number
  /** Records each step of a replication round (ROUND_TRACE_DIR, `npm run bench:rounds`). */
  readonly tracer?: RoundTracer
}

/** Ticks to wait before retrying a failed snapshot transfer (the core stays paused for that follower meanwhile). */
const SNAPSHOT_RETRY_TICKS = 20

export class RaftDriver {
  readonly core: RaftCore
  private readonly store: LogStore
  private readonly transport: Transport
  private readonly hooks: DriverHooks
  private readonly tickMs: number
  private timer: NodeJS.Timeout | null = null
  private scheduled = false
  private stopped = false
  /** At most one synced write runs at a time; work arriving meanwhile shares the next one. */
  private writing = false
  private compacting = false
  /** Records applied since the last snapshot was taken or restored: the log's size, however many increments an entry holds. */
  private recordsSinceSnapshot = 0
  private readonly snapshotEntries: number
  private readonly now: () => number
  /** Followers a snapshot is being streamed to; one transfer per follower at a time. */
  private readonly sendingSnapshot = new Set<NodeId>()
  private latestConfig: ClusterConfig | null = null
  private appliedConfig: ClusterConfig | null = null
  private leaving: ReadonlySet<NodeId> | null = null
  private readonly tracer: RoundTracer | undefined

  constructor(opts: DriverOptions) {
    this.core = new RaftCore({ ...opts.raft, random: opts.random ?? Math.random }, opts.restored)
    this.store = opts.store
    this.transport = opts.transport
    this.hooks = opts.hooks
    this.tickMs = opts.tickMs
    this.snapshotEntries = opts.snapshotEntries
    this.now = opts.now ?? Date.now
    this.tracer = opts.tracer
  }

  start(): void {
    this.syncConfig()
    this.timer = setInterval(() => this.onTick(), this.tickMs)
    this.schedule()
  }

  /** Peer messages arrive here from the peer HTTP app. */
  receive(messages: readonly Message[]): void {
    if (this.stopped) return
    if (this.tracer !== undefined) traceReceived(this.tracer, messages)
    for (const m of messages) this.core.step(m)
    this.schedule()
  }

  /** Ask for a processing pass at the end of this event-loop turn, so everything queued in the turn shares one Ready. */
  schedule(): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setImmediate(this.process)
  }

  status(): RaftStatus {
    return this.core.status()
  }

  /** Stops ticking and waits for writes in flight; further input is ignored. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    while (this.writing || this.compacting) await new Promise((r) => setTimeout(r, 1))
  }

  private onTick(): void {
    if (this.stopped) return
    this.core.tick()
    this.hooks.onTick()
    this.schedule()
  }

  private readonly process = (): void => {
    this.scheduled = false
    if (this.stopped) return
    this.hooks.beforeReady()
    this.syncConfig()
    if (this.writing) {
      // Group commit: while one synced write runs, whatever needs no write goes
      // out now and everything else accumulates for the next single write.
      this.deliver(this.core.ready({ withWrites: false }))
      return
    }
    if (!this.core.hasReady()) return
    const rd = this.core.ready()
    if (rd.hardState === null && rd.entries.length === 0 && rd.snapshot === null) {
      this.deliver(rd)
      // Every earlier write has completed, so persisted messages may go now.
      if (rd.persistedMessages.length > 0) this.sendMessages(rd.persistedMessages)
      this.core.advance(rd)
      return
    }
    // Appends leave first, then the write starts, and only then are entries
    // applied and clients answered: the apply and the replies it resolves
    // would otherwise run ahead of the write (`npm run bench:rounds`).
    if (rd.messages.length > 0) this.sendMessages(rd.messages)
    this.startWrite(rd)
    this.deliverLocal(rd)
  }

  /** The synced write of a Ready; its persisted messages go, and the core advances, once it is durable. */
  private startWrite(rd: Ready): void {
    this.writing = true
    // Optional calls: without a tracer the index is not even computed.
    this.tracer?.record('write_started', '', rd.entries.at(-1)?.index ?? 0)
    this.store.save(rd.hardState, rd.entries, rd.snapshot).then(
      () => {
        this.writing = false
        this.tracer?.record('write_done', '', rd.entries.at(-1)?.index ?? 0)
        if (this.stopped) return
        if (rd.persistedMessages.length > 0) this.sendMessages(rd.persistedMessages)
        this.core.advance(rd)
        this.schedule()
      },
      (err: unknown) => {
        this.writing = false
        this.stopped = true
        this.hooks.onFatal(err)
      },
    )
  }

  private syncConfig(): void {
    const latest = this.core.clusterConfig
    const applied = this.core.configAt(this.core.appliedIndex) ?? latest
    const leaving = this.core.leavingPeers
    if (latest === this.latestConfig && applied === this.appliedConfig && leaving === this.leaving) return
    this.latestConfig = latest
    this.appliedConfig = applied
    this.leaving = leaving
    this.hooks.onConfigChange?.(latest, applied, leaving)
  }

  /** The parts of a Ready that do not wait for its write. */
  private deliver(rd: Ready): void {
    if (rd.messages.length > 0) this.sendMessages(rd.messages)
    this.deliverLocal(rd)
  }

  /** What of a Ready stays on this node and does not wait for its write: restore, apply, reads. */
  private deliverLocal(rd: Ready): void {
    // A snapshot is committed data: the state machine may become it before it is on disk here.
    if (rd.snapshot !== null) {
      this.hooks.onRestore(rd.snapshot)
      this.recordsSinceSnapshot = 0
    }
    // Committed entries are already durable here: apply them without waiting for a write.
    if (rd.committed.length > 0) {
      this.tracer?.record('applied', '', rd.committed.at(-1)?.index ?? 0)
      this.recordsSinceSnapshot += this.hooks.onApply(rd.committed)
      this.maybeCompact()
    }
    if (rd.readStates.length > 0) this.hooks.onReadStates(rd.readStates)
    if (rd.droppedReads.length > 0) this.hooks.onDroppedReads(rd.droppedReads)
  }

  /** Snapshot messages take their own chunked path; everything else goes out in batches. */
  private sendMessages(messages: readonly Message[]): void {
    let plain = messages
    for (const m of messages) {
      if (m.type !== 'snapshot') continue
      plain = messages.filter((x) => x.type !== 'snapshot')
      this.streamSnapshot(m)
    }
    if (plain.length === 0) return
    if (this.tracer !== undefined) traceSent(this.tracer, plain)
    this.transport.send(plain)
  }

  /** Sends the newest stored snapshot (never older than the one the core named) to a follower. */
  private streamSnapshot(m: InstallSnapshot): void {
    if (this.sendingSnapshot.has(m.to)) return
    this.sendingSnapshot.add(m.to)
    const started = this.now()
    let bytes = 0
    let index = m.index
    this.store
      .loadSnapshot()
      .then((snap) => {
        if (snap === null) throw new Error('no stored snapshot to send')
        bytes = Buffer.byteLength(snap.data, 'utf8')
        index = snap.index
        return this.transport.sendSnapshot(storedSnapshotMessage(m, snap))
      })
      .then(
        () => this.hooks.onSnapshotEvent?.({ kind: 'sent', to: m.to, index, bytes, ms: this.now() - started }),
        (error: unknown) => {
          this.hooks.onSnapshotEvent?.({ kind: 'send_failed', to: m.to, error })
          // Retry after a pause, not at once: a dead follower would otherwise get a
          // fresh attempt (and the leader a fresh read of the whole image) per proposal.
          const retry = setTimeout(() => {
            if (this.stopped) return
            this.core.reportSnapshotFailed(m.to)
            this.schedule()
          }, this.tickMs * SNAPSHOT_RETRY_TICKS)
          retry.unref()
        },
      )
      .finally(() => this.sendingSnapshot.delete(m.to))
  }

  /**
   * Once the log since the last snapshot outgrows both the configured count
   * and a share of the state (snapshotDue), stores a snapshot at the applied index and drops
   * the entries it covers, on disk and then in memory.
   */
  private maybeCompact(): void {
    if (this.compacting || this.stopped) return
    // Runs after every applied batch: no status() (it copies every peer's progress).
    const index = this.core.appliedIndex
    if (!snapshotDue(this.recordsSinceSnapshot, this.snapshotEntries, this.hooks.stateEntries())) return
    const term = this.core.termAt(index)
    if (term === undefined) return
    const config = this.core.configAt(index)
    const started = this.now()
    this.tracer?.record('snapshot_started', '', index)
    this.compacting = true
    this.recordsSinceSnapshot = 0
    let bytes = 0
    // Captured now, synchronously: the state machine is exactly at `index`.
    const lines = this.hooks.snapshotLines()
    const counted = (async function* count() {
      for await (const line of lines) {
        bytes += Buffer.byteLength(line, 'utf8') + 1
        yield line
      }
    })()
    this.store
      .compact(config === undefined ? { index, term } : { index, term, config }, counted)
      .then(
        () => {
          lines.close()
          this.tracer?.record('snapshot_done', '', index)
          this.compacting = false
          this.core.compact(index)
          this.hooks.onSnapshotEvent?.({ kind: 'compacted', index, bytes, ms: this.now() - started })
        },
        (err: unknown) => {
          lines.close()
          this.compacting = false
          if (this.stopped) return
          this.stopped = true
          this.hooks.onFatal(err)
        },
      )
  }
}

/** Appends with entries and successful append answers, as they arrive. */
function traceReceived(tracer: RoundTracer, messages: readonly Message[]): void {
  for (const m of messages) {
    if (m.type === 'append' && m.entries.length > 0) tracer.record('append_received', m.from, m.entries.at(-1)?.index ?? 0)
    else if (m.type === 'append_resp' && !m.reject) tracer.record('answer_received', m.from, m.index)
  }
}

/** The same two kinds, as they leave. */
function traceSent(tracer: RoundTracer, messages: readonly Message[]): void {
  for (const m of messages) {
    if (m.type === 'append' && m.entries.length > 0) tracer.record('append_sent', m.to, m.entries.at(-1)?.index ?? 0)
    else if (m.type === 'append_resp' && !m.reject) tracer.record('answer_sent', m.to, m.index)
  }
}
