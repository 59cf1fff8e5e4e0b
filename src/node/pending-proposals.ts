// Proposals this leader appended, waiting for their log index to be applied.
// Each entry carries a batch of increments, answered item by item. An index
// applied with a different term means the entry was replaced by another
// leader's: its commands never took effect and may be retried.
import type { CommandBatch, Decision } from '../ratelimit/index.js'
import type { Waiter } from './deadline-queue.js'

/**
 * One settle callback for the whole table instead of a resolve closure per
 * proposal: this runs for every admitted increment. `decision` is null when
 * the entry was replaced or skipped.
 */
export type SettleProposal<W> = (waiter: W, decision: Decision | null) => void

interface Group<W> {
  readonly term: number
  readonly batch: CommandBatch
  /** Item i's waiter; undefined once it expired. */
  readonly waiters: (W | undefined)[]
  live: number
}

export class PendingProposals<W extends Waiter<never>> {
  private readonly byIndex = new Map<number, Group<W>>()

  constructor(private readonly onSettle: SettleProposal<W>) {}

  /** `waiters[i]` waits for `batch.items[i]`, proposed at `index` in `term`. Keeps `waiters` (not a copy): the caller hands it over. */
  add(index: number, term: number, batch: CommandBatch, waiters: (W | undefined)[]): void {
    if (waiters.length !== batch.items.length) throw new Error(`${waiters.length} waiters for ${batch.items.length} items`)
    this.byIndex.set(index, { term, batch, waiters, live: waiters.length })
  }

  has(index: number): boolean {
    return this.byIndex.has(index)
  }

  /**
   * The batch this node encoded into the entry at `index`, if that entry is
   * the one it proposed (same index and term means the same entry), so the
   * leader can apply it without decoding its own entry.
   */
  batchAt(index: number, term: number): CommandBatch | undefined {
    const g = this.byIndex.get(index)
    return g !== undefined && g.term === term ? g.batch : undefined
  }

  /** Called for every applied entry, in log order; `decisions[i]` answers item i, null when nothing was applied. */
  settle(index: number, term: number, decisions: readonly Decision[] | null): void {
    const g = this.byIndex.get(index)
    if (g === undefined) return
    this.byIndex.delete(index)
    const ours = g.term === term
    for (let i = 0; i < g.waiters.length; i++) {
      const w = g.waiters[i]
      if (w !== undefined) this.onSettle(w, ours ? (decisions?.[i] ?? null) : null)
    }
  }

  /** Rejects proposals past their deadline: their outcome is unknown. */
  expire(now: number, onExpire: (w: W) => void): void {
    for (const [index, g] of this.byIndex) {
      for (let i = 0; i < g.waiters.length; i++) {
        const w = g.waiters[i]
        if (w === undefined || w.deadline > now) continue
        g.waiters[i] = undefined
        g.live--
        onExpire(w)
      }
      if (g.live === 0) this.byIndex.delete(index)
    }
  }

  /** A snapshot replaced the log up to `index`: whether those proposals took effect is unknown here. */
  rejectThrough(index: number, err: unknown): void {
    for (const [i, g] of this.byIndex) {
      if (i > index) continue
      this.byIndex.delete(i)
      rejectGroup(g, err)
    }
  }

  rejectAll(err: unknown): void {
    for (const g of this.byIndex.values()) rejectGroup(g, err)
    this.byIndex.clear()
  }

  /** Entries proposed here and not yet applied. */
  get size(): number {
    return this.byIndex.size
  }
}

function rejectGroup<W extends Waiter<never>>(g: Group<W>, err: unknown): void {
  for (const w of g.waiters) if (w !== undefined) w.reject(err)
}
