// One seed is one run: the same seed gives the same event log (trace hash),
// the same history and the same verdict, including for a failing seed; the
// trace mode only records, it never changes what happens.
import t from 'tap'
import { runSeed } from '../../src/sim/run.js'

const historyOf = (seed: number, opts: Parameters<typeof runSeed>[0]) => {
  const r = runSeed({ ...opts, seed })
  return { digest: r.traceDigest, stats: r.stats, violation: r.violation, lines: r.trace.length }
}

t.test('a seed replays to an identical trace', async (t) => {
  for (const seed of [7, 12]) {
    const a = historyOf(seed, { seed, trace: 'hash' })
    const b = historyOf(seed, { seed, trace: 'hash' })
    t.same(a, b, `seed ${seed}: same trace hash, stats and verdict`)
    t.ok(a.stats.ops > 50 && a.stats.events > 1000, `seed ${seed} did real work (${a.stats.ops} ops, ${a.stats.events} events)`)
  }
  const full = runSeed({ seed: 7, trace: 'full' })
  t.equal(full.traceDigest, historyOf(7, { seed: 7, trace: 'hash' }).digest, 'printing the trace does not change the run')
  t.ok(full.trace.some((l) => l.includes('append')), 'the trace shows messages')
  t.not(historyOf(8, { seed: 8, trace: 'hash' }).digest, full.traceDigest, 'another seed runs differently')
})

t.test('a failing seed fails the same way twice in a row', async (t) => {
  const opts = { seed: 3, scenario: 'vote-races', bugs: ['vote_not_persisted_before_reply'] as const, trace: 'full' as const }
  const a = runSeed({ ...opts, bugs: [...opts.bugs] })
  const b = runSeed({ ...opts, bugs: [...opts.bugs] })
  t.equal(a.ok, false, `seed 3 fails: ${a.violation?.message ?? ''}`)
  t.same(a.violation, b.violation)
  t.equal(a.traceDigest, b.traceDigest)
  t.same(a.trace, b.trace, 'line for line')
  t.match(a.replay, /--seed 3 .*--scenario vote-races --bug vote_not_persisted_before_reply --trace/)
})
