// Membership changes this leader proposed, waiting for their config entry to
// be applied. Like increments, an index applied with another term means
// another leader's entry replaced it: the change never happened.
import { RateLimiterError } from '../errors.js'

interface ChangeWaiter {
  readonly term: number
  readonly deadline: number
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

export class MembershipChanges {
  private readonly byIndex = new Map<number, ChangeWaiter>()

  constructor(private readonly now: () => number) {}

  /** Resolves once the entry at `index` is applied with `term`; rejects with CHANGE_FAILED otherwise. */
  committed(index: number, term: number, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => this.byIndex.set(index, { term, deadline, resolve, reject }))
  }

  applied(index: number, term: number): void {
    const w = this.byIndex.get(index)
    if (w === undefined) return
    this.byIndex.delete(index)
    if (w.term === term) w.resolve()
    else w.reject(new RateLimiterError('CHANGE_FAILED', 'another leader replaced the change; it did not happen'))
  }

  /** Past the deadline the outcome is unknown: the entry may still commit. */
  expire(now: number = this.now()): void {
    for (const [index, w] of this.byIndex) {
      if (w.deadline > now) continue
      this.byIndex.delete(index)
      w.reject(new RateLimiterError('CHANGE_FAILED', `index ${index} not applied in time`))
    }
  }

  rejectThrough(index: number, err: unknown): void {
    for (const [i, w] of this.byIndex) {
      if (i > index) continue
      this.byIndex.delete(i)
      w.reject(err)
    }
  }

  rejectAll(err: unknown): void {
    for (const w of this.byIndex.values()) w.reject(err)
    this.byIndex.clear()
  }
}
