// The replicated state machine: every replica applies the same committed
// commands in the same order and ends in the same state. It reads no clock:
// time comes only from the leader's stamp inside each command.
import { consume, peek, type BucketAnswer } from './bucket.js'
import { BucketTable } from './bucket-table.js'
import { assertValidCommand, type IncrementCommand } from './command.js'
import { assertValidBatch, type BatchItem, type CommandBatch } from './command-batch.js'
import type { Decision } from './decision.js'
import { DedupTable } from './dedup-table.js'
import type { FrozenBuckets } from './frozen-buckets.js'
import { isIntIn } from './int-math.js'
import { paced } from './paced.js'
import { assertValidPolicy, MAX_STAMP, type Policy } from './policy.js'
import { encodeSnapshot, invalidSnapshot, snapshotLines, type StateImage } from './snapshot.js'
import { readSnapshot, readSnapshotInSlices, type SnapshotSink } from './snapshot-reader.js'
import { hashState } from './state-hash.js'

export interface StateMachineOptions {
  /** How long (log time) a request id is remembered. Must match on every replica. */
  readonly dedupTtlMs?: number
  /** Oldest buckets examined for eviction per apply. Must match on every replica. */
  readonly sweepPerApply?: number
  /**
   * Applies a request id outlives its first apply by, whatever the log time
   * says (a leader clock jump must not expire every id). Must match on every replica.
   */
  readonly dedupMinApplies?: number
  /**
   * Seeds the hash that indexes bucket keys. Replicas need not agree: it
   * changes nothing observable. A process should pick one at random so that
   * clients cannot choose ids that all collide.
   */
  readonly keyHashSeed?: number
}

/** A snapshot's lines; close() releases the state they were taken from once they will not all be read. */
export interface SnapshotLines extends AsyncIterable<string> {
  close(): void
}

export const DEFAULT_DEDUP_TTL_MS = 10 * 60 * 1000
export const DEFAULT_SWEEP_PER_APPLY = 2
export const DEFAULT_DEDUP_MIN_APPLIES = 100_000

function copyPolicy(p: Policy): Policy {
  return { refill: p.refill, windowMs: p.windowMs, burst: p.burst }
}

/** Fields named, not spread: on Node 20 a spread plus a field costs about 1 µs per call. */
function decisionOf(a: BucketAnswer, policy: Policy, duplicate: boolean): Decision {
  return { admitted: a.admitted, remaining: a.remaining, retryAfterMs: a.retryAfterMs, resetMs: a.resetMs, policy, duplicate }
}

export class RateLimitStateMachine {
  readonly #buckets: BucketTable
  readonly #dedup: DedupTable
  readonly #sweepPerApply: number
  #lastStamp = 0
  /** Applies so far, over the machine's whole history (kept in snapshots). */
  #seq = 0

  constructor(opts: StateMachineOptions = {}) {
    const ttl = opts.dedupTtlMs ?? DEFAULT_DEDUP_TTL_MS
    const sweep = opts.sweepPerApply ?? DEFAULT_SWEEP_PER_APPLY
    if (!isIntIn(ttl, 0, MAX_STAMP)) throw new RangeError(`dedupTtlMs must be an integer >= 0, got ${ttl}`)
    if (!isIntIn(sweep, 0, 1000)) throw new RangeError(`sweepPerApply must be an integer in 0..1000, got ${sweep}`)
    const minApplies = opts.dedupMinApplies ?? DEFAULT_DEDUP_MIN_APPLIES
    if (!isIntIn(minApplies, 0, Number.MAX_SAFE_INTEGER)) throw new RangeError(`dedupMinApplies must be an integer >= 0, got ${minApplies}`)
    this.#dedup = new DedupTable(ttl, minApplies)
    this.#buckets = new BucketTable(opts.keyHashSeed ?? 0)
    this.#sweepPerApply = sweep
  }

  /** Largest effective stamp applied so far (0 before any). */
  get lastStamp(): number {
    return this.#lastStamp
  }

  /** Buckets held; full buckets are not held. */
  get size(): number {
    return this.#buckets.size
  }

  /** Request ids remembered. */
  get dedupSize(): number {
    return this.#dedup.size
  }

  /**
   * Applies one committed increment. Throws on an invalid command (which
   * the codecs never let through), identically everywhere.
   */
  apply(cmd: IncrementCommand): Decision {
    assertValidCommand(cmd)
    return this.#applyItem(cmd.key, cmd.cost, cmd.requestId, cmd.stamp, copyPolicy(cmd.policy))
  }

  /**
   * Applies a committed batch's items in order, exactly as apply() would one
   * at a time, and answers each. An invalid batch throws before any item is
   * applied, identically everywhere.
   */
  applyBatch(batch: CommandBatch): Decision[] {
    assertValidBatch(batch)
    // One copy shared by the batch's decisions: they are read-only.
    const policy = copyPolicy(batch.policy)
    const { items, stamp } = batch
    const out = new Array<Decision>(items.length)
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as BatchItem
      out[i] = this.#applyItem(item.key, item.cost, item.requestId, stamp, policy)
    }
    return out
  }

  #applyItem(key: string, cost: number, requestId: string | undefined, stamp: number, policy: Policy): Decision {
    // A new leader whose clock is behind must not move time backwards.
    const now = Math.max(stamp, this.#lastStamp)
    this.#lastStamp = now
    // Counts applies that change state: a duplicate leaves seq (and all else but time) alone.
    const seq = this.#seq + 1
    this.#dedup.expire(now, seq)
    this.#buckets.sweep(now, this.#sweepPerApply)

    if (requestId !== undefined) {
      const first = this.#dedup.get(key, requestId)
      if (first !== undefined) return decisionOf(first, first.policy, true)
    }

    this.#seq = seq
    const result = consume(this.#buckets.get(key), policy, cost, now)
    this.#buckets.put(key, result.bucket, now)
    const decision = decisionOf(result, policy, false)
    if (requestId !== undefined) this.#dedup.remember({ key, requestId, stamp: now, seq, decision })
    return decision
  }

  /** Read-only: would a cost-1 request for `key` pass at max(now, lastStamp)? `remaining` = tokens held. */
  check(key: string, now: number, policy: Policy): Decision {
    assertValidPolicy(policy)
    const answer = peek(this.#buckets.get(key), policy, Math.max(now, this.#lastStamp))
    return decisionOf(answer, copyPolicy(policy), false)
  }

  stateHash(): string {
    return this.#withImage(hashState)
  }

  /** The whole image: snapshotLines joined by "\n". */
  snapshot(): string {
    return this.#withImage((img) => encodeSnapshot(img))
  }

  /**
   * The state as of now, as snapshot()'s lines, produced one at a time with
   * `pause` awaited between them so other work runs meanwhile. Only the copy
   * of the rows is taken synchronously (the bucket and request-id columns), so
   * later applies cannot alter the image: the request-id rows are copied,
   * the buckets frozen (frozen-buckets.ts). Reading to the end releases the
   * frozen buckets; so does close(), which a caller that may stop early or
   * never read must call.
   */
  snapshotLines(pause: () => Promise<void>, rowsPerLine?: number): SnapshotLines {
    const buckets = this.#buckets.freeze()
    const lines = paced(snapshotLines(this.#imageOf(buckets), rowsPerLine), pause)
    const read = async function* (): AsyncGenerator<string> {
      try {
        yield* lines
      } finally {
        buckets.close()
      }
    }
    const it = read()
    return { [Symbol.asyncIterator]: () => it, close: () => buckets.close() }
  }

  /** Rebuilds a machine from snapshot(); `opts` must match the other replicas'. */
  static restore(s: string, opts: StateMachineOptions = {}): RateLimitStateMachine {
    const machine = new RateLimitStateMachine(opts)
    readSnapshot(s, machine.#restoreSink())
    return machine
  }

  /**
   * restore(), a line at a time with `pause()` awaited in between, so a large
   * image does not block the event loop for seconds. The machine is handed
   * out only once complete; until then the caller must not apply to or answer
   * from any machine for indexes after the snapshot.
   */
  static async restoreInSlices(s: string, pause: () => Promise<void>, opts: StateMachineOptions = {}): Promise<RateLimitStateMachine> {
    const machine = new RateLimitStateMachine(opts)
    await readSnapshotInSlices(s, pause, machine.#restoreSink())
    return machine
  }

  /**
   * Inserts in the saved order, bypassing put()'s full-check: the table must
   * be exactly what was saved, or eviction order would differ afterwards.
   */
  #restoreSink(): SnapshotSink {
    const buckets = this.#buckets
    return {
      header: (h) => {
        this.#lastStamp = h.lastStamp
        this.#seq = h.seq
      },
      bucket: ([key, level, stamp, windowMs, fullAt]) => {
        if (buckets.has(key)) invalidSnapshot('duplicate bucket key')
        buckets.restore(key, { level, stamp, windowMs, fullAt })
      },
      dedup: (entry) => this.#dedup.remember(entry),
    }
  }

  #imageOf(buckets: FrozenBuckets): StateImage {
    return { lastStamp: this.#lastStamp, seq: this.#seq, buckets, dedup: this.#dedup.rows() }
  }

  /** `read` sees the state as it is now; nothing changes it meanwhile, so the frozen buckets are released right after. */
  #withImage<T>(read: (img: StateImage) => T): T {
    const buckets = this.#buckets.freeze()
    try {
      return read(this.#imageOf(buckets))
    } finally {
      buckets.close()
    }
  }
}
