// Tiny flag parser: `--name value`, `--name=value`, and bare `--flag` (true).

export class Args {
  private readonly values = new Map<string, string>()

  constructor(argv: readonly string[], private readonly known: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i] as string
      if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}`)
      const eq = a.indexOf('=')
      let name: string
      let value: string
      if (eq > 0) {
        name = a.slice(2, eq)
        value = a.slice(eq + 1)
      } else {
        name = a.slice(2)
        const next = argv[i + 1]
        if (next !== undefined && !next.startsWith('--')) {
          value = next
          i++
        } else value = 'true'
      }
      if (!known.includes(name)) throw new Error(`unknown flag --${name} (known: ${known.map((k) => `--${k}`).join(' ')})`)
      this.values.set(name, value)
    }
  }

  number(name: string, dflt: number): number {
    const v = this.values.get(name)
    if (v === undefined) return dflt
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`)
    return n
  }

  string(name: string, dflt: string): string {
    return this.values.get(name) ?? dflt
  }

  list(name: string, dflt: readonly string[]): string[] {
    const v = this.values.get(name)
    return v === undefined ? [...dflt] : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  }

  flag(name: string): boolean {
    const v = this.values.get(name)
    return v !== undefined && v !== 'false' && v !== '0'
  }
}
