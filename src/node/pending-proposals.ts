// Proposals this leader appended, waiting for their log index to be applied.
// An index applied with a different term means the entry was replaced by
// another leader's: the command never took effect and may be retried.
import type { Decision } from '../ratelimit/index.js'
import type { Waiter } from './deadline-queue.js'

/** A waiter that remembers the term its entry was appended in. */
export interface PendingWaiter extends Waiter<never> {
  /** Set by the owner before add(). */
  term: number
}

/**
 * One settle callback for the whole table instead of a resolve closure (and
 * a copied waiter) per proposal: this runs for every admitted increment.
 * `decision` is null when the entry was replaced or skipped.
 */
export type SettleProposal<W> = (waiter: W, decision: Decision | null) => void

export class PendingProposals<W extends PendingWaiter> {
  private readonly byIndex = new Map<number, W>()

  constructor(private readonly onSettle: SettleProposal<W>) {}

  add(index: number, waiter: W): void {
    this.byIndex.set(index, waiter)
  }

  has(index: number): boolean {
    return this.byIndex.has(index)
  }

  /** Called for every applied entry, in log order. */
  settle(index: number, term: number, decision: Decision | null): void {
    const w = this.byIndex.get(index)
    if (w === undefined) return
    this.byIndex.delete(index)
    this.onSettle(w, w.term === term ? decision : null)
  }

  /** Rejects proposals past their deadline: their outcome is unknown. */
  expire(now: number, onExpire: (w: W) => void): void {
    for (const [index, w] of this.byIndex) {
      if (w.deadline <= now) {
        this.byIndex.delete(index)
        onExpire(w)
      }
    }
  }

  /** A snapshot replaced the log up to `index`: whether those proposals took effect is unknown here. */
  rejectThrough(index: number, err: unknown): void {
    for (const [i, p] of this.byIndex) {
      if (i > index) continue
      this.byIndex.delete(i)
      p.reject(err)
    }
  }

  rejectAll(err: unknown): void {
    for (const w of this.byIndex.values()) w.reject(err)
    this.byIndex.clear()
  }

  get size(): number {
    return this.byIndex.size
  }
}
