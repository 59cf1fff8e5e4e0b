// The default CI batch: 500 random fault schedules, a mix of 3- and 5-node
// clusters, every invariant and the end-of-run checks on each.
import t from 'tap'
import { runSeed } from '../../src/sim/run.js'

const SEEDS = 500

t.test(`${SEEDS} random schedules pass`, async (t) => {
  const t0 = performance.now()
  const sizes = new Map<number, number>()
  let ops = 0
  let failed = 0
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed({ seed })
    sizes.set(r.nodes, (sizes.get(r.nodes) ?? 0) + 1)
    ops += r.stats.ops
    if (!r.ok) {
      failed++
      t.fail(`seed ${seed}: ${r.violation?.message ?? ''} -- replay: ${r.replay}`)
    }
  }
  const secs = (performance.now() - t0) / 1000
  t.equal(failed, 0, `${SEEDS - failed} passed, ${failed} failed`)
  t.ok((sizes.get(3) ?? 0) > 0 && (sizes.get(5) ?? 0) > 0, `both sizes ran: ${JSON.stringify([...sizes])}`)
  t.comment(`${SEEDS} seeds, ${ops} client ops in ${secs.toFixed(1)} s (${(SEEDS / secs).toFixed(1)} seeds/s)`)
})
