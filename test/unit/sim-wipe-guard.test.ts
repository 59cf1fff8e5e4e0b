// The simulator wipes a follower's disk only while Raft can survive it: one
// node's data at a time. Seeds 3401893 and 3407053 (3 nodes, random) wiped a
// second node while the first, wiped earlier, had applied the leader's
// snapshot but was still rejoining (it refuses votes until a leader tells it
// how far to catch up, and its slow disk held that question back). Two of
// three nodes then refused votes, no leader could be elected, and the run
// failed its liveness check: the harness, not the core, broke its fault budget.
import t from 'tap'
import { defaultConfig } from '../../src/sim/config.js'
import { fireFault } from '../../src/sim/faults.js'
import { Simulation } from '../../src/sim/simulation.js'

function settledCluster(): Simulation {
  const sim = new Simulation({ ...defaultConfig(7, 3), scenario: 'random', bugs: [], trace: 'off' })
  sim.begin()
  sim.runUntil(1000)
  return sim
}

t.test('no second wipe while a wiped member is still rejoining', async (t) => {
  const sim = settledCluster()
  const leader = sim.leader()
  t.not(leader, null, 'a leader after 1 s')
  const follower = sim.nodes.find((n) => n !== leader)
  if (leader === null || follower === undefined) return
  follower.rejoin = true // caught up and alive, but not yet allowed to vote
  const before = sim.crashes
  fireFault(sim, sim.prng.fork(), 'wipe-disk')
  t.equal(sim.crashes, before, 'nothing wiped while a member is rejoining')
  follower.rejoin = false
  fireFault(sim, sim.prng.fork(), 'wipe-disk')
  t.equal(sim.crashes, before + 1, 'a follower is wiped once every member has rejoined')
})
