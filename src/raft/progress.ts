// The leader's view of one follower: how far it matches, what to send next,
// and how many AppendEntries are in flight (flow control, Raft thesis §10.2).
import type { NodeId, PeerProgress, ProgressState } from './types.js'

export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** In probe state: an AppendEntries is out and unanswered; wait before sending another. */
  probeSent = false
  /** Last index of each AppendEntries in flight, oldest first (replicate state). */
  private readonly inflights: number[] = []
  /** Heard from since the last CheckQuorum round. */
  recentActive = false
  /** In snapshot state: the snapshot's index, and ticks spent waiting for its answer. */
  pendingSnapshot = 0
  snapshotElapsed = 0
  /** The commit index the last AppendEntries to it carried: whether it still needs a commit notice. */
  sentCommit = 0
  /**
   * Ticks in a row that ended with appends in flight and no answer since the
   * tick before: how long it has kept the leader waiting (0 when healthy).
   */
  stalledTicks = 0
  private answeredSinceTick = false
  /**
   * A follower that rejoined after losing its data asks the leader how far it
   * must catch up before it may vote: null if it has not asked this leader,
   * -1 while its ask is unanswered, else the index the answer named.
   */
  rejoinTarget: number | null = null

  /**
   * `maxInflight` bounds the AppendEntries in flight to a follower that lags by
   * at least `fullMessage` entries (one full message); see window().
   */
  constructor(
    readonly id: NodeId,
    lastIndex: number,
    private readonly maxInflight: number,
    private readonly fullMessage: number,
  ) {
    this.next = lastIndex + 1
  }

  /** Whether to hold further AppendEntries while the leader's log ends at `lastIndex`. */
  isPaused(lastIndex: number): boolean {
    if (this.state === 'snapshot') return true
    return this.state === 'probe' ? this.probeSent : this.inflights.length >= this.window(lastIndex)
  }

  /**
   * The adaptive in-flight window: a follower behind by a full message or more
   * gets up to maxInflight of them pipelined, so catching up is not one round
   * trip per message. One that is caught up gets one append at a time: what is
   * proposed while it is out waits for the answer and travels in the next one.
   * The follower's write would have grouped those entries anyway, so commit
   * latency stays the same while messages, frames and writes on both sides
   * drop to one per follower write (on this machine, about 10% more
   * throughput at 50 connections).
   */
  private window(lastIndex: number): number {
    return this.unsent(lastIndex) >= this.fullMessage ? this.maxInflight : 1
  }

  /** Entries of a log ending at `lastIndex` not yet sent to it. */
  unsent(lastIndex: number): number {
    return Math.max(0, lastIndex - this.next + 1)
  }

  /** A leader tick: count it as stalled if appends waited through it unanswered. */
  onTick(): void {
    this.stalledTicks = this.state === 'replicate' && this.inflights.length > 0 && !this.answeredSinceTick ? this.stalledTicks + 1 : 0
    this.answeredSinceTick = false
  }

  /** Record an AppendEntries carrying entries up to `lastSent`. */
  sent(lastSent: number, hadEntries: boolean): void {
    if (this.state === 'replicate') {
      if (hadEntries) {
        this.next = lastSent + 1
        this.inflights.push(lastSent)
      }
    } else {
      this.probeSent = true
    }
  }

  /** A successful response up to `index`; false if it told us nothing new. */
  ack(index: number): boolean {
    let progressed = false
    if (index > this.match) {
      this.match = index
      progressed = true
    }
    if (this.next <= index) this.next = index + 1
    this.probeSent = false
    this.answeredSinceTick = true
    while (this.inflights.length > 0 && (this.inflights[0] as number) <= index) this.inflights.shift()
    if (this.state === 'probe' && progressed) this.becomeReplicate()
    // The follower installed the snapshot (or already had its entries): replicate from there.
    else if (this.state === 'snapshot' && this.match >= this.pendingSnapshot) this.becomeReplicate()
    return progressed
  }

  /**
   * A rejection of prevIndex `rejected`. `hint` is the leader's best guess of the
   * last matching index. Returns false for a stale rejection that needs no action.
   */
  reject(rejected: number, hint: number): boolean {
    // Answers to appends sent before the snapshot: the snapshot decides now.
    if (this.state === 'snapshot') return false
    if (hint < this.match && rejected <= this.match) {
      // The follower's log ends before what it once acknowledged: its data was
      // lost (a wiped disk), or this answer is old. Either way probing again
      // from the hint is safe: match only feeds the commit index, which never goes back.
      this.match = hint
      this.becomeProbe()
      return true
    }
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.becomeProbe()
      this.next = Math.max(this.match + 1, Math.min(rejected, hint + 1))
      return true
    }
    if (rejected !== this.next - 1) return false
    this.next = Math.max(this.match + 1, Math.min(rejected, hint + 1), 1)
    this.probeSent = false
    return true
  }

  /** The follower needs entries we compacted away: send it the snapshot at `index` and wait. */
  becomeSnapshot(index: number): void {
    this.state = 'snapshot'
    this.pendingSnapshot = index
    this.snapshotElapsed = 0
    this.probeSent = false
    this.inflights.length = 0
  }

  becomeProbe(): void {
    this.state = 'probe'
    this.pendingSnapshot = 0
    this.probeSent = false
    this.inflights.length = 0
    this.next = this.match + 1
  }

  private becomeReplicate(): void {
    this.state = 'replicate'
    this.pendingSnapshot = 0
    this.inflights.length = 0
    this.next = this.match + 1
  }

  /**
   * A heartbeat answer: a lost probe may be retried, and a full window frees
   * one slot so lost AppendEntries cannot stall the follower forever (the
   * follower rejects the gap and we fall back to probing).
   */
  onHeartbeatResponse(lastIndex: number): void {
    this.probeSent = false
    if (this.inflights.length >= this.window(lastIndex)) this.inflights.shift()
  }

  /** It asked for its catch-up target and does not hold it yet, so it neither votes nor campaigns. */
  get rejoining(): boolean {
    return this.rejoinTarget !== null && (this.rejoinTarget < 0 || this.match < this.rejoinTarget)
  }

  view(): PeerProgress {
    return {
      id: this.id,
      match: this.match,
      next: this.next,
      state: this.state,
      inflight: this.inflights.length,
      recentActive: this.recentActive,
      ...(this.state === 'snapshot' ? { pendingSnapshot: this.pendingSnapshot } : {}),
      ...(this.rejoining ? { rejoining: true as const } : {}),
    }
  }
}
