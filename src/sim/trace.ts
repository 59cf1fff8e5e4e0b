// A readable, hashable log of what happened in a run. 'off' costs one
// branch per call site; 'hash' folds every line into FNV-1a so two runs can
// be compared without keeping the lines; 'full' also keeps them for printing.

export type TraceMode = 'off' | 'hash' | 'full'

/** Stop storing lines past this many (the hash still covers every line). */
const MAX_LINES = 500_000

export class Trace {
  readonly lines: string[] = []
  private h1 = 0x811c9dc5
  private h2 = 0x01000193
  private count = 0

  constructor(
    readonly mode: TraceMode,
    private readonly clock: () => number,
  ) {}

  get on(): boolean {
    return this.mode !== 'off'
  }

  /** Call as `trace.on && trace.log(...)` so lines are only built when wanted. */
  log(line: string): void {
    if (this.mode === 'off') return
    const s = `${String(this.clock()).padStart(6)} ${line}`
    let h1 = this.h1
    let h2 = this.h2
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      h1 = Math.imul(h1 ^ c, 16777619)
      h2 = Math.imul(h2 ^ c, 2246822519) ^ (h2 >>> 13)
    }
    // Line separator, so ["ab","c"] and ["a","bc"] differ.
    this.h1 = Math.imul(h1 ^ 10, 16777619)
    this.h2 = Math.imul(h2 ^ 10, 2246822519)
    this.count++
    if (this.mode === 'full' && this.lines.length < MAX_LINES) this.lines.push(s)
  }

  /** Hash of every line logged so far (and how many). */
  digest(): string {
    return `${(this.h1 >>> 0).toString(16).padStart(8, '0')}${(this.h2 >>> 0).toString(16).padStart(8, '0')}:${this.count}`
  }
}
