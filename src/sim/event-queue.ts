// Virtual time: a binary min-heap of callbacks ordered by (time, insertion
// sequence). Ties run in the order they were scheduled, so a run depends
// only on the seed, never on heap internals.

interface Scheduled {
  readonly t: number
  readonly seq: number
  readonly run: () => void
}

export class EventQueue {
  private readonly heap: Scheduled[] = []
  private seq = 0
  private time = 0
  /** Events executed so far (a cheap progress and cost measure). */
  executed = 0

  get now(): number {
    return this.time
  }

  get size(): number {
    return this.heap.length
  }

  /** Runs `run` `delay` ms from now (integer ms, >= 0). */
  after(delay: number, run: () => void): void {
    this.at(this.time + Math.max(0, Math.round(delay)), run)
  }

  at(t: number, run: () => void): void {
    if (t < this.time) throw new Error(`event-queue: cannot schedule in the past (${t} < ${this.time})`)
    this.push({ t, seq: this.seq++, run })
  }

  /** Runs every event due up to and including `until`; the clock ends at `until`. */
  runUntil(until: number, afterEach?: () => void): void {
    for (;;) {
      const top = this.heap[0]
      if (top === undefined || top.t > until) break
      this.pop()
      this.time = top.t
      this.executed++
      top.run()
      afterEach?.()
    }
    this.time = Math.max(this.time, until)
  }

  private push(e: Scheduled): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = h[p] as Scheduled
      if (!before(e, parent)) break
      h[i] = parent
      i = p
    }
    h[i] = e
  }

  private pop(): void {
    const h = this.heap
    const last = h.pop()
    if (last === undefined || h.length === 0) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= h.length) break
      const r = l + 1
      const c = r < h.length && before(h[r] as Scheduled, h[l] as Scheduled) ? r : l
      const child = h[c] as Scheduled
      if (!before(child, last)) break
      h[i] = child
      i = c
    }
    h[i] = last
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq)
}
