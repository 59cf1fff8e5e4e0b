// The simulator's only source of randomness: sfc32 (Chris Doty-Humphrey's
// small fast counting generator), 32-bit state words, seeded from the run's
// seed. Every other stream (each node's election timer, the network, the
// clients) is forked from it, so one integer replays a whole run.

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9 ^ stream
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed >>> 0
    // Warm up so nearby seeds give unrelated sequences.
    for (let i = 0; i < 15; i++) this.u32()
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return p > 0 && this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('prng: pick from an empty list')
    return items[this.int(0, items.length - 1)] as T
  }

  /** Fisher–Yates on a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }

  /** An independent stream derived from this one's next outputs. */
  fork(): Prng {
    return new Prng(this.u32(), this.u32())
  }
}
