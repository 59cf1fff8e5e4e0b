// Shared by the scenario tests: run a scenario over a range of seeds (both
// cluster sizes) and report every failure with its replay command.
import type { Test } from 'tap'
import { runSeed, type RunOptions, type RunResult } from '../../src/sim/run.js'

export function runMany(o: Omit<RunOptions, 'seed'>, seeds: number, start = 1): RunResult[] {
  const out: RunResult[] = []
  for (let seed = start; seed < start + seeds; seed++) out.push(runSeed({ ...o, seed }))
  return out
}

/** Every seed passes, on 3 and on 5 nodes. */
export function expectPass(t: Test, scenario: string, seeds: number, extra: Omit<RunOptions, 'seed' | 'scenario' | 'nodes'> = {}): void {
  for (const nodes of [3, 5]) {
    const results = runMany({ ...extra, scenario, nodes }, seeds)
    const failed = results.filter((r) => !r.ok)
    for (const r of failed) t.fail(`${r.violation?.message ?? ''} -- replay: ${r.replay}`)
    const ops = results.reduce((s, r) => s + r.stats.ops, 0)
    t.equal(failed.length, 0, `${scenario}: ${seeds} seeds on ${nodes} nodes pass (${ops} client ops)`)
  }
}

/** The scenario's own check fails when the protection it checks is removed. */
export function expectCaught(t: Test, o: Omit<RunOptions, 'seed'>, invariant: string, seeds = 10): void {
  const results = runMany(o, seeds)
  const caught = results.filter((r) => r.violation?.invariant === invariant)
  t.ok(caught.length > 0, `${o.scenario}: '${invariant}' caught in ${caught.length} of ${seeds} seeds (first: ${caught[0]?.replay ?? 'none'})`)
}
