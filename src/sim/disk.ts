// A node's simulated disk. Writes are synced in issue order. Like a real
// driver over LevelDB, writes issued while a sync is in progress are grouped
// into the next batch (group commit), so a slow disk delays writes by about
// one sync, not by a growing backlog. A power loss forgets every write not yet
// synced, so a restart sees exactly the synced state.
import type { Entry, HardState, Snapshot } from '../raft/types.js'
import { DurableHistory } from './durable-history.js'
import type { EventQueue } from './event-queue.js'

interface PendingWrite {
  readonly hardState: HardState | null
  readonly entries: readonly Entry[]
  /** With `replace`: a snapshot from the leader replacing the log; else a local compaction up to it. */
  readonly snapshot: Snapshot | null
  readonly replace: boolean
  readonly done: () => void
}

export interface DiskImage {
  readonly hardState: HardState
  readonly entries: readonly Entry[]
  readonly snapshot: Snapshot | null
}

export class SimDisk {
  private hardState: HardState = { term: 0, vote: null, commit: 0 }
  /** Contiguous, starting right after `snapshot`. */
  private entries: Entry[] = []
  private snap: Snapshot | null = null
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
  /** Everything ever synced here, for the quorum checks. */
  readonly history = new DurableHistory()

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
  write(hardState: HardState | null, entries: readonly Entry[], done: () => void, snapshot: Snapshot | null = null): void {
    this.waiting.push({ hardState, entries, snapshot, replace: true, done })
    this.inFlight++
    if (!this.busy) this.startSync()
  }

  /** Stores a local snapshot and drops the entries it covers, in one synced write. */
  compact(snapshot: Snapshot, done: () => void): void {
    this.waiting.push({ hardState: null, entries: [], snapshot, replace: false, done })
    this.inFlight++
    if (!this.busy) this.startSync()
  }

  private startSync(): void {
    const batch = this.waiting
    this.waiting = []
    this.busy = true
    const gen = this.generation
    // A batch with nothing to store (a Ready of messages only) costs no sync time.
    const latency = batch.some((w) => w.hardState !== null || w.entries.length > 0 || w.snapshot !== null) ? this.latency() : 0
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
    this.record(w)
    if (w.snapshot !== null) {
      const from = this.snapIndex
      if (w.replace) {
        this.snap = w.snapshot
        this.entries = []
      } else if (w.snapshot.index > from) {
        this.entries.splice(0, w.snapshot.index - from)
        this.snap = w.snapshot
      }
    }
    if (w.hardState !== null) this.hardState = w.hardState
    const first = w.entries[0]
    if (first === undefined) return
    this.entries.length = Math.max(0, Math.min(this.entries.length, first.index - 1 - this.snapIndex))
    for (const e of w.entries) this.entries.push(e)
  }

  private record(w: PendingWrite): void {
    if (w.snapshot !== null) this.history.recordSnapshot(w.snapshot.index)
    if (w.hardState !== null) this.history.recordHardState(w.hardState)
    this.history.recordEntries(w.entries)
  }

  private get snapIndex(): number {
    return this.snap?.index ?? 0
  }

  /** The synced snapshot (what a leader sends to a follower that needs it). */
  get snapshot(): Snapshot | null {
    return this.snap
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
  load(): DiskImage {
    return { hardState: this.hardState, entries: this.entries.slice(), snapshot: this.snap }
  }

  /** Destroys everything (a replaced machine, a wiped data dir). */
  wipe(): void {
    this.powerLoss()
    this.hardState = { term: 0, vote: null, commit: 0 }
    this.entries = []
    this.snap = null
  }

  get lastIndex(): number {
    return this.snapIndex + this.entries.length
  }
}
