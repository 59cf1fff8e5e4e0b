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

  /**
   * @param overflow where items go when no request is held (a request of our own)
   * @param now a clock for `releaseOlderThan` only
   */
  constructor(
    private readonly overflow: (items: T[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Holds a request from the peer; resolves with the items to answer it with (maybe none). */
  hold(): Promise<T[]> {
    return new Promise<T[]>((resolve) => this.waiters.push({ resolve, since: this.now() }))
  }

  get holding(): boolean {
    return this.waiters.length > 0
  }

  /** Queues an item for the oldest held request; false (nothing taken) when none is held. */
  offer(item: T): boolean {
    if (this.waiters.length === 0 && this.queued.length === 0) return false
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
    this.flush()
    this.releaseWhile(() => true)
  }

  /** Releases requests held longer than `ms`, so a held request never nears the sender's timeout. */
  releaseOlderThan(ms: number): void {
    const limit = this.now() - ms
    this.flush()
    this.releaseWhile((w) => w.since <= limit)
  }

  stats(): HeldRepliesStats {
    return { repliedBatches: this.repliedBatches, releasedEmpty: this.releasedEmpty, held: this.waiters.length }
  }

  private releaseWhile(pred: (w: Waiter<T>) => boolean): void {
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
    const w = this.waiters.shift()
    if (w === undefined) {
      // Released meanwhile (timeout or shutdown): send them the ordinary way.
      this.overflow(items)
      return
    }
    this.repliedBatches++
    w.resolve(items)
  }
}
