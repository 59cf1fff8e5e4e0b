// Proposals this leader appended, waiting for their log index to be applied.
// An index applied with a different term means the entry was replaced by
// another leader's: the command never took effect and may be retried.
import type { Decision } from '../ratelimit/index.js'
import type { Waiter } from './deadline-queue.js'

export type ProposalOutcome = { readonly applied: true; readonly decision: Decision } | { readonly applied: false }

interface Pending extends Waiter<ProposalOutcome> {
  readonly term: number
}

export class PendingProposals {
  private readonly byIndex = new Map<number, Pending>()

  add(index: number, term: number, waiter: Waiter<ProposalOutcome>): void {
    this.byIndex.set(index, { ...waiter, term })
  }

  has(index: number): boolean {
    return this.byIndex.has(index)
  }

  /** Called for every applied entry, in log order. */
  settle(index: number, term: number, decision: Decision | null): void {
    const p = this.byIndex.get(index)
    if (p === undefined) return
    this.byIndex.delete(index)
    if (p.term === term && decision !== null) p.resolve({ applied: true, decision })
    else p.resolve({ applied: false })
  }

  /** Rejects proposals past their deadline: their outcome is unknown. */
  expire(now: number, onExpire: (w: Waiter<ProposalOutcome>) => void): void {
    for (const [index, p] of this.byIndex) {
      if (p.deadline <= now) {
        this.byIndex.delete(index)
        onExpire(p)
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
    for (const p of this.byIndex.values()) p.reject(err)
    this.byIndex.clear()
  }

  get size(): number {
    return this.byIndex.size
  }
}
