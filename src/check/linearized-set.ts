// The set of ops already linearized, as a bitset of 32-bit words. Ops are
// numbered by call time, so in practice the set is "everything before some
// frontier" plus a few bits around it; the memo key encodes the run of full
// leading words as a count, which keeps keys short on long histories.

export class LinearizedSet {
  private readonly words: Uint32Array
  /** Every word below this index is all ones. */
  private full = 0
  /** No word above this index has a bit set. */
  private top = -1

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32))
  }

  add(i: number): void {
    const w = i >>> 5
    this.words[w] = (this.words[w] ?? 0) | (1 << (i & 31))
    if (w > this.top) this.top = w
  }

  delete(i: number): void {
    const w = i >>> 5
    this.words[w] = (this.words[w] ?? 0) & ~(1 << (i & 31))
    if (w < this.full) this.full = w
  }

  has(i: number): boolean {
    return (((this.words[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1
  }

  /** A string equal for equal sets and different for different ones. */
  key(): string {
    while (this.full < this.words.length && this.words[this.full] === 0xffffffff) this.full++
    while (this.top >= 0 && this.words[this.top] === 0) this.top--
    let s = String(this.full)
    for (let w = this.full; w <= this.top; w++) s += ',' + (this.words[w] ?? 0).toString(36)
    return s
  }
}
