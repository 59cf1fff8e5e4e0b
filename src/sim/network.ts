// The simulated network between nodes: per-message random delay (which also
// reorders), drop and duplicate probabilities, and directed link cuts that
// model symmetric and asymmetric partitions. A cut is checked when a message
// arrives, so messages already in flight are lost too.
import type { EventQueue } from './event-queue.js'
import type { Prng } from './prng.js'

export interface LinkFaults {
  readonly drop: number
  readonly duplicate: number
  readonly delayMin: number
  readonly delayMax: number
}

export interface NetStats {
  sent: number
  dropped: number
  duplicated: number
  cut: number
}

export class SimNetwork {
  faults: LinkFaults
  readonly stats: NetStats = { sent: 0, dropped: 0, duplicated: 0, cut: 0 }
  /** Directed cuts: "a>b" loses everything a sends to b. */
  private readonly cuts = new Set<string>()

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    readonly ids: readonly string[],
    faults: LinkFaults,
  ) {
    this.faults = faults
  }

  send(from: string, to: string, deliver: () => void, onLost?: (why: string) => void): void {
    this.stats.sent++
    const f = this.faults
    if (this.prng.chance(f.drop)) {
      this.stats.dropped++
      onLost?.('drop')
      return
    }
    const copies = this.prng.chance(f.duplicate) ? 2 : 1
    if (copies === 2) this.stats.duplicated++
    for (let i = 0; i < copies; i++) {
      this.queue.after(this.prng.int(f.delayMin, f.delayMax), () => {
        if (this.cuts.has(`${from}>${to}`)) {
          this.stats.cut++
          onLost?.('cut')
          return
        }
        deliver()
      })
    }
  }

  isCut(from: string, to: string): boolean {
    return this.cuts.has(`${from}>${to}`)
  }

  cutOneWay(from: string, to: string): void {
    this.cuts.add(`${from}>${to}`)
  }

  /** Splits the nodes into groups that cannot talk to each other. */
  partition(groups: readonly (readonly string[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue
        for (const x of a) for (const y of b) this.cuts.add(`${x}>${y}`)
      }
    }
  }

  isolate(id: string): void {
    this.partition([[id], this.ids.filter((x) => x !== id)])
  }

  /** Removes every cut to or from `id`, leaving other cuts in place. */
  rejoin(id: string): void {
    for (const c of [...this.cuts]) {
      const [a, b] = c.split('>')
      if (a === id || b === id) this.cuts.delete(c)
    }
  }

  heal(): void {
    this.cuts.clear()
  }

  get partitioned(): boolean {
    return this.cuts.size > 0
  }

  describeCuts(): string {
    return [...this.cuts].sort().join(',')
  }
}
