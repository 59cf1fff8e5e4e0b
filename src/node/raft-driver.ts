// The driver: the only place where time, disk and network meet the consensus
// core. It ticks the core on a timer, feeds it peer messages, and turns each
// Ready into one synced storage batch plus sends, in the order the Ready
// contract requires.
import { RaftCore } from '../raft/core.js'
import type { Entry, Message, RaftConfig, RaftStatus, ReadState, Ready, RestoredState } from '../raft/types.js'
import type { LogStore } from '../storage/port.js'
import type { Transport } from '../transport/port.js'

export interface DriverHooks {
  /** Committed entries, in log order, each exactly once per process life. */
  onApply(entries: readonly Entry[]): void
  onReadStates(states: readonly ReadState[]): void
  onDroppedReads(ctxs: readonly string[]): void
  /** Runs on every tick, after the core's. */
  onTick(): void
  /** Runs before each Ready is taken: the place to hand batched proposals to the core. */
  beforeReady(): void
  /** A write failed: the node can no longer promise durability and must stop. */
  onFatal(err: unknown): void
}

export interface DriverOptions {
  readonly raft: Omit<RaftConfig, 'random'>
  readonly tickMs: number
  readonly store: LogStore
  readonly transport: Transport
  readonly restored: RestoredState
  readonly hooks: DriverHooks
  readonly random?: () => number
}

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

  constructor(opts: DriverOptions) {
    this.core = new RaftCore({ ...opts.raft, random: opts.random ?? Math.random }, opts.restored)
    this.store = opts.store
    this.transport = opts.transport
    this.hooks = opts.hooks
    this.tickMs = opts.tickMs
  }

  start(): void {
    this.timer = setInterval(() => this.onTick(), this.tickMs)
    this.schedule()
  }

  /** Peer messages arrive here from the peer HTTP app. */
  receive(messages: readonly Message[]): void {
    if (this.stopped) return
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
    while (this.writing) await new Promise((r) => setTimeout(r, 1))
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
    if (this.writing) {
      // Group commit: while one synced write runs, whatever needs no write goes
      // out now and everything else accumulates for the next single write.
      this.deliver(this.core.ready({ withWrites: false }))
      return
    }
    if (!this.core.hasReady()) return
    const rd = this.core.ready()
    this.deliver(rd)
    if (rd.hardState === null && rd.entries.length === 0) {
      // Every earlier write has completed, so persisted messages may go now.
      if (rd.persistedMessages.length > 0) this.transport.send(rd.persistedMessages)
      this.core.advance(rd)
      return
    }
    this.writing = true
    this.store.save(rd.hardState, rd.entries).then(
      () => {
        this.writing = false
        if (this.stopped) return
        if (rd.persistedMessages.length > 0) this.transport.send(rd.persistedMessages)
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

  /** The parts of a Ready that do not wait for its write. */
  private deliver(rd: Ready): void {
    if (rd.messages.length > 0) this.transport.send(rd.messages)
    // Committed entries are already durable here: apply them without waiting for a write.
    if (rd.committed.length > 0) this.hooks.onApply(rd.committed)
    if (rd.readStates.length > 0) this.hooks.onReadStates(rd.readStates)
    if (rd.droppedReads.length > 0) this.hooks.onDroppedReads(rd.droppedReads)
  }
}
