// Membership in the simulator (FAULTS 22): the grow-shrink scenario really
// grows and shrinks the cluster and passes; spares that are never added stay
// quiet under the generic faults; and allowing overlapping changes (two
// configurations in flight, an old and a new majority cut apart) is caught,
// on seeds that pass with the one-change-at-a-time rule in place.
import t from 'tap'
import { runSeed } from '../../src/sim/run.js'

const SEEDS = 12

t.test('grow-shrink: the cluster goes n → n+2 → n and every seed passes', async (t) => {
  for (const nodes of [3, 5]) {
    let fullCycles = 0
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = runSeed({ seed, nodes, scenario: 'grow-shrink' })
      t.ok(r.ok, `seed ${seed} on ${nodes} nodes${r.ok ? '' : `: ${r.violation?.message ?? ''} -- ${r.replay}`}`)
      // Two adds, two promotions, two removals, back to the initial size.
      if (r.stats.configChanges >= 6 && r.stats.voters === nodes) fullCycles++
    }
    t.ok(fullCycles >= SEEDS * 0.75, `${fullCycles} of ${SEEDS} runs on ${nodes} nodes went through the whole cycle`)
  }
})

t.test('spares never added stay quiet followers under the generic faults', async (t) => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed({ seed, scenario: 'random', trace: 'full', configure: (c) => ({ ...c, spares: 2 }) })
    t.ok(r.ok, `seed ${seed}${r.ok ? '' : `: ${r.violation?.message ?? ''}`}`)
    const spares = [`n${r.nodes + 1}`, `n${r.nodes + 2}`]
    const stirred = r.trace.filter((line) => spares.some((id) => line.includes(` ${id} is `) && !line.endsWith(`${id} is follower term=0 leader=-`)))
    t.same(stirred, [], `seed ${seed}: no spare campaigned, changed term or followed a leader`)
  }
})

t.test('overlapping_conf_changes is caught by grow-shrink; the same seeds pass without it', async (t) => {
  const caught: number[] = []
  for (let seed = 1; seed <= 10; seed++) {
    const r = runSeed({ seed, nodes: 3, scenario: 'grow-shrink', bugs: ['overlapping_conf_changes'] })
    if (r.ok) continue
    caught.push(seed)
    t.comment(`seed ${seed}: ${r.violation?.message ?? ''} -- ${r.replay}`)
  }
  t.ok(caught.length > 0, `caught in ${caught.length} of 10 seeds`)
  for (const seed of caught) {
    const r = runSeed({ seed, nodes: 3, scenario: 'grow-shrink' })
    t.ok(r.ok, `seed ${seed} passes with one change at a time${r.ok ? '' : `: ${r.violation?.message ?? ''}`}`)
  }
})

t.test('a removed leader leading on in its own term is not a disruption', async (t) => {
  // Seed 1050: n5 leads term 3 and removes itself; a partition isolates it while
  // n7 commits the removal at term 4. n5 still leads term 3 until CheckQuorum.
  const r = runSeed({ seed: 1050, nodes: 5, scenario: 'grow-shrink' })
  t.ok(r.ok, r.violation?.message ?? 'passes')
})
