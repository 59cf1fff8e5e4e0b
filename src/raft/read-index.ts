// ReadIndex bookkeeping on the leader (Raft thesis §6.4). Each read gets a
// sequence number; a heartbeat carries the newest one, and once a quorum has
// answered a heartbeat carrying seq >= s, every read up to s is confirmed.
// So one heartbeat round serves any number of reads.
import type { NodeId } from './types.js'

export interface PendingRead {
  readonly ctx: string
  /** Who asked: this node, or a follower reading on behalf of its clients. */
  readonly from: NodeId
  readonly index: number
  readonly seq: number
}

export class ReadIndexQueue {
  private seq = 0
  private broadcasted = 0
  /** Reads that arrived before the leader committed an entry of its term: its commit index is not yet known to be current. */
  private waitingForCommit: { ctx: string; from: NodeId }[] = []
  private pending: PendingRead[] = []
  private readonly acks = new Map<NodeId, number>()

  constructor(
    private readonly self: NodeId,
    private voters: readonly NodeId[],
    private quorum: number,
  ) {}

  /** The configuration changed: confirmations count among the new voters only. */
  setVoters(voters: readonly NodeId[], quorum: number): void {
    this.voters = voters
    this.quorum = quorum
  }

  add(ctx: string, from: NodeId, commit: number, committedInTerm: boolean): void {
    if (!committedInTerm) {
      this.waitingForCommit.push({ ctx, from })
      return
    }
    this.seq++
    this.pending.push({ ctx, from, index: commit, seq: this.seq })
  }

  /** The leader has just committed an entry of its own term at `commit`. */
  onCommitInTerm(commit: number): void {
    const waiting = this.waitingForCommit
    this.waitingForCommit = []
    for (const w of waiting) this.add(w.ctx, w.from, commit, true)
  }

  needsBroadcast(): boolean {
    return this.pending.length > 0 && this.seq > this.broadcasted
  }

  /** The sequence number the next heartbeat round carries. */
  broadcastSeq(): number {
    this.broadcasted = this.seq
    return this.seq
  }

  ack(from: NodeId, seq: number): void {
    if (seq > (this.acks.get(from) ?? 0)) this.acks.set(from, seq)
  }

  /** Reads now confirmed by a quorum, oldest first. */
  takeReleased(): PendingRead[] {
    let n = 0
    while (n < this.pending.length) {
      const r = this.pending[n] as PendingRead
      let confirmed = 0
      for (const v of this.voters) {
        if (v === this.self || (this.acks.get(v) ?? 0) >= r.seq) confirmed++
      }
      if (confirmed < this.quorum) break
      n++
    }
    if (n === 0) return []
    return this.pending.splice(0, n)
  }

  /** Leadership lost: every read still waiting must be refused. */
  takeAll(): { ctx: string; from: NodeId }[] {
    const all: { ctx: string; from: NodeId }[] = [...this.waitingForCommit, ...this.pending]
    this.waitingForCommit = []
    this.pending = []
    return all
  }

  reset(): void {
    this.takeAll()
    this.acks.clear()
    this.seq = 0
    this.broadcasted = 0
  }
}
