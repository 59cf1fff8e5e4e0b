// Call and return events of one key's ops in time order, as a doubly linked
// list over typed arrays, so the search can lift an op out (its call and its
// return) and put it back in O(1) when it backtracks.
import type { Op } from './history.js'

export class EventList {
  /** Entry 0 is the head sentinel; entries 1..n are events in time order. */
  readonly next: Int32Array
  readonly prev: Int32Array
  /** Op index (into the ops array given) of each entry. */
  readonly opOf: Int32Array
  /** 1 for a call entry, 0 for a return entry. */
  readonly isCall: Uint8Array
  /** Call entry of each op, and its return entry or -1 when the op has none. */
  readonly callOf: Int32Array
  readonly returnOf: Int32Array
  /** Ops that have a return event, i.e. that every linearization must include. */
  readonly required: number

  /**
   * `hasReturn(op)` false means the op may take effect at any time after its
   * call, or never. At equal times calls sort first: ops that touch in time
   * count as concurrent, the permissive reading of an ambiguous clock.
   */
  constructor(ops: readonly Op[], hasReturn: (op: Op) => boolean) {
    type Ev = { t: number; call: boolean; op: number }
    const evs: Ev[] = []
    let required = 0
    ops.forEach((op, i) => {
      if (!Number.isFinite(op.call)) throw new RangeError(`op ${op.id}: call time ${op.call} is not finite`)
      evs.push({ t: op.call, call: true, op: i })
      if (hasReturn(op)) {
        if (!(op.ret >= op.call)) throw new RangeError(`op ${op.id}: ret ${op.ret} is before call ${op.call}`)
        evs.push({ t: op.ret, call: false, op: i })
        required++
      }
    })
    evs.sort((a, b) => a.t - b.t || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1))
    const size = evs.length + 1
    this.next = new Int32Array(size)
    this.prev = new Int32Array(size)
    this.opOf = new Int32Array(size).fill(-1)
    this.isCall = new Uint8Array(size)
    this.callOf = new Int32Array(ops.length)
    this.returnOf = new Int32Array(ops.length).fill(-1)
    this.required = required
    evs.forEach((ev, k) => {
      const e = k + 1
      this.opOf[e] = ev.op
      this.isCall[e] = ev.call ? 1 : 0
      if (ev.call) this.callOf[ev.op] = e
      else this.returnOf[ev.op] = e
    })
    // Circular through the sentinel: the end of the list is entry 0 again.
    for (let e = 0; e < size; e++) {
      this.next[e] = (e + 1) % size
      this.prev[e] = (e - 1 + size) % size
    }
  }

  get first(): number {
    return this.next[0] ?? 0
  }

  private unlink(e: number): void {
    const n = this.next[e] ?? 0
    const p = this.prev[e] ?? 0
    this.next[p] = n
    this.prev[n] = p
  }

  private relink(e: number): void {
    this.next[this.prev[e] ?? 0] = e
    this.prev[this.next[e] ?? 0] = e
  }

  /** Remove op `i`'s events; undo with restore(i), in reverse order of lifts. */
  lift(i: number): void {
    this.unlink(this.callOf[i] ?? 0)
    const r = this.returnOf[i] ?? -1
    if (r >= 0) this.unlink(r)
  }

  restore(i: number): void {
    const r = this.returnOf[i] ?? -1
    if (r >= 0) this.relink(r)
    this.relink(this.callOf[i] ?? 0)
  }
}
