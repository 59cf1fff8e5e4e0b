// Per-peer outgoing queue. Items pile up while requests are in flight and
// leave as one batch when a slot frees up, so batching grows with load and a
// slow peer only ever holds `maxInFlight` requests. The queue is bounded by
// dropping the oldest items: Raft re-sends whatever matters.

export interface OutboxOptions<T> {
  readonly maxQueued: number
  readonly maxInFlight: number
  readonly maxBatch: number
  /** Delivers one batch; resolves true on success. Must never reject. */
  readonly post: (batch: T[]) => Promise<boolean>
}

export interface OutboxStats {
  readonly sentBatches: number
  readonly sentMessages: number
  readonly failedBatches: number
  readonly failedMessages: number
  readonly droppedMessages: number
  readonly queued: number
  readonly inFlight: number
}

export class Outbox<T> {
  private queue: T[] = []
  private inFlight = 0
  private flushScheduled = false
  private closed = false
  private sentBatches = 0
  private sentMessages = 0
  private failedBatches = 0
  private failedMessages = 0
  private droppedMessages = 0

  constructor(private readonly opts: OutboxOptions<T>) {
    for (const key of ['maxQueued', 'maxInFlight', 'maxBatch'] as const) {
      if (!Number.isSafeInteger(opts[key]) || opts[key] < 1) throw new Error(`outbox ${key} must be a positive integer`)
    }
  }

  enqueue(item: T): void {
    if (this.closed) return
    this.queue.push(item)
    if (this.queue.length > this.opts.maxQueued) {
      const excess = this.queue.length - this.opts.maxQueued
      this.queue.splice(0, excess)
      this.droppedMessages += excess
    }
    // Deferred to the end of the current tick so every send() of one burst shares a batch.
    if (!this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(() => {
        this.flushScheduled = false
        this.flush()
      })
    }
  }

  stats(): OutboxStats {
    return {
      sentBatches: this.sentBatches,
      sentMessages: this.sentMessages,
      failedBatches: this.failedBatches,
      failedMessages: this.failedMessages,
      droppedMessages: this.droppedMessages,
      queued: this.queue.length,
      inFlight: this.inFlight,
    }
  }

  /** Discards what is queued and stops sending; requests in flight finish on their own. */
  close(): void {
    this.closed = true
    this.queue = []
  }

  private flush(): void {
    while (!this.closed && this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch)
      this.inFlight++
      void this.opts.post(batch).then(
        (ok) => this.settle(batch.length, ok),
        () => this.settle(batch.length, false),
      )
    }
  }

  private settle(size: number, ok: boolean): void {
    this.inFlight--
    if (ok) {
      this.sentBatches++
      this.sentMessages += size
    } else {
      this.failedBatches++
      this.failedMessages += size
    }
    this.flush()
  }
}
