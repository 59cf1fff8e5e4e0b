// FAULTS 22 under load and alongside other faults: the cluster grows by two
// spares and shrinks back (3→4→5→4→3, or 5→6→7→6→5), the leader removing
// itself in some runs; removed nodes are stopped or left running. Half the
// runs cut the old majority off from the new one while both spares are
// promoted back to back (see membership-operator.ts).
import { fireFault, pickKinds } from './faults.js'
import { MembershipOperator } from './membership-operator.js'
import { watchOutsiders } from './membership-watch.js'
import type { Prng } from './prng.js'
import type { Simulation } from './simulation.js'
import type { SimConfig } from './types.js'

export const growShrink = {
  about: 'two spares join (learner, catch up, promote) and voters leave (the leader too) under load and random faults',
  // Four changes need time: a longer workload than the default.
  configure: (c: SimConfig): SimConfig => ({ ...c, spares: 2, workloadMs: 4000 }),
  plan: (sim: Simulation, prng: Prng): void => {
    const operator = new MembershipOperator(sim, prng.fork(), {
      split: prng.chance(0.5),
      removeLeader: 0.4,
      retire: 0.6,
    })
    const end = sim.cfg.workloadMs - 300
    for (let t = 300 + prng.int(0, 100); t < end; t += prng.int(40, 120)) sim.queue.at(t, () => operator.act())
    sim.watchers.push(watchOutsiders(sim, operator))

    // Other faults, as the random scenario fires them, but not during the split it must not heal early.
    const faults = prng.fork()
    const kinds = pickKinds(faults)
    for (let t = faults.int(200, 500); t < sim.cfg.workloadMs - 200; t += faults.int(150, 600)) {
      const kind = faults.pick(kinds)
      sim.queue.at(t, () => {
        if (!operator.splitting) fireFault(sim, faults, kind)
      })
    }
    const t = sim.trace
    t.on && t.log(`SCHEDULE grow-shrink: split=${operator.splitPlanned} faults=${kinds.join(',')}`)
  },
}
