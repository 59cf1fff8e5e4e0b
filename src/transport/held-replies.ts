// Requests a peer sent us, held open so that what we say to that peer next
// rides back in their responses instead of in requests of our own: a
// follower's AppendEntries answer then costs no HTTP round trip of its own.
// Held requests are answered in arrival order (HTTP/1.1 answers a connection's
// requests in that order anyway), each with whatever was queued for the peer
// by then, and released empty when this node has nothing more to say.

export interface HeldRepliesStats {
  /** Batches that went back in a held request's response. */
  readonly repliedBatches: number
  /** Held requests released with nothing to carry. */
  readonly releasedEmpty: number
  readonly held: number
}

interface Waiter<T> {
  readonly resolve: (items: T[]) => void
  readonly since: number
}

export class HeldReplies<T> {
  private readonly waiters: Waiter<T>[] = []
  private queued: T[] = []
  private flushScheduled = false
  private repliedBatches = 0
  private releasedEmpty = 0

  /** @param now a clock for `releaseOlderThan` only */
  constructor(private readonly now: () => number = Date.now) {}

  /** Holds a request from the peer; resolves with the items to answer it with (maybe none). */
  hold(): Promise<T[]> {
    return new Promise<T[]>((resolve) => this.waiters.push({ resolve, since: this.now() }))
  }

  /** Queues an item for the oldest held request; false (nothing taken) when none is held. */
  offer(item: T): boolean {
    if (this.waiters.length === 0) return false
    this.queued.push(item)
    // At the end of this turn, so every item of one burst shares a response.
    if (!this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(this.flush)
    }
    return true
  }

  /** Answers every held request that has nothing queued for it with an empty response. */
  releaseIdle(): void {
    this.releaseWhile(() => true)
  }

  /** Releases requests held longer than `ms`, so a held request never nears the sender's timeout. */
  releaseOlderThan(ms: number): void {
    const limit = this.now() - ms
    this.releaseWhile((w) => w.since <= limit)
  }

  stats(): HeldRepliesStats {
    return { repliedBatches: this.repliedBatches, releasedEmpty: this.releasedEmpty, held: this.waiters.length }
  }

  /** Queued items go first (to the oldest), so a release never drops what was offered. */
  private releaseWhile(pred: (w: Waiter<T>) => boolean): void {
    this.flush()
    while (this.waiters.length > 0 && pred(this.waiters[0] as Waiter<T>)) {
      ;(this.waiters.shift() as Waiter<T>).resolve([])
      this.releasedEmpty++
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    if (this.queued.length === 0) return
    const items = this.queued
    this.queued = []
    // Items are queued only while a request is held, and only this takes it
    // away with items: releases flush first.
    const w = this.waiters.shift() as Waiter<T>
    this.repliedBatches++
    w.resolve(items)
  }
}
