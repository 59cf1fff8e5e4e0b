// A node's simulated disk. Writes are synced in issue order. Like a real
// driver over LevelDB, writes issued while a sync is in progress are grouped
// into the next batch (group commit), so a slow disk delays writes by about
// one sync, not by a growing backlog. A power loss forgets every write not yet
// synced, so a restart sees exactly the synced state.
import type { Entry, HardState, RestoredState } from '../raft/types.js'
import type { EventQueue } from './event-queue.js'

interface PendingWrite {
  readonly hardState: HardState | null
  readonly entries: readonly Entry[]
  readonly done: () => void
}

export class SimDisk {
  private hardState: HardState = { term: 0, vote: null, commit: 0 }
  private entries: Entry[] = []
  /** Bumped by a power loss: a sync started before it is void. */
  private generation = 0
  private waiting: PendingWrite[] = []
  private busy = false
  /** Writes issued and not yet synced. */
  inFlight = 0
  /** Writes forgotten by power losses, over the disk's life. */
  lost = 0
  /** Syncs completed (batches), over the disk's life. */
  syncs = 0

  /** `latency()` is drawn when a sync starts, so it reflects the disk's speed at that moment. */
  constructor(
    private readonly queue: EventQueue,
    private readonly latency: () => number,
  ) {}

  /**
   * Issues one write (hard state and/or entries; either may be empty) and
   * calls `done` once it is synced. `entries[0].index` may be at or below the
   * stored last index: the stored tail from there on is replaced.
   */
  write(hardState: HardState | null, entries: readonly Entry[], done: () => void): void {
    this.waiting.push({ hardState, entries, done })
    this.inFlight++
    if (!this.busy) this.startSync()
  }

  private startSync(): void {
    const batch = this.waiting
    this.waiting = []
    this.busy = true
    const gen = this.generation
    // A batch with nothing to store (a Ready of messages only) costs no sync time.
    const latency = batch.some((w) => w.hardState !== null || w.entries.length > 0) ? this.latency() : 0
    this.queue.after(latency, () => {
      if (gen !== this.generation) return
      this.syncs++
      for (const w of batch) this.store(w)
      this.inFlight -= batch.length
      // Callbacks may issue writes (they wait for the next sync) or lose power.
      for (const w of batch) {
        if (gen !== this.generation) return
        w.done()
      }
      this.busy = false
      if (this.waiting.length > 0) this.startSync()
    })
  }

  private store(w: PendingWrite): void {
    if (w.hardState !== null) this.hardState = w.hardState
    const first = w.entries[0]
    if (first === undefined) return
    this.entries.length = Math.min(this.entries.length, first.index - 1)
    for (const e of w.entries) this.entries.push(e)
  }

  /** Power loss: un-synced writes vanish. Returns how many were lost. */
  powerLoss(): number {
    const n = this.inFlight
    this.lost += n
    this.inFlight = 0
    this.waiting = []
    this.busy = false
    this.generation++
    return n
  }

  /** What a restarting node reads back. */
  load(): RestoredState {
    return { hardState: this.hardState, entries: this.entries.slice() }
  }

  get lastIndex(): number {
    return this.entries.length
  }
}
