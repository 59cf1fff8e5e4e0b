// The incremental invariants fire on the states they forbid (fed by hand here;
// test/unit/sim-bugs.test.ts shows them firing on real broken variants).
import t from 'tap'
import type { Entry } from '../../src/raft/types.js'
import { defaultConfig } from '../../src/sim/config.js'
import { Invariants } from '../../src/sim/invariants.js'
import { Simulation } from '../../src/sim/simulation.js'
import type { SimNode } from '../../src/sim/sim-node.js'

const node = (id: string, incarnation = 1): SimNode => ({ id, incarnation }) as unknown as SimNode
const e = (index: number, term: number, data = `d${index}`): Entry => ({ index, term, kind: 'cmd', data })

t.test('state machine safety: the same entry at each index everywhere', async (t) => {
  const inv = new Invariants(1)
  inv.onApply(node('n1'), e(1, 1))
  inv.onApply(node('n2'), e(1, 1))
  t.throws(() => inv.onApply(node('n3'), e(1, 2)), /state-machine-safety/)
  t.throws(() => inv.onApply(node('n2'), e(1, 1)), /applied-index-monotonic/, 'no re-apply within a life')
  t.throws(() => inv.onApply(node('n1'), e(3, 1)), /applied-index-monotonic/, 'no gap')
  inv.onApply(node('n1', 2), e(1, 1))
  t.pass('a restarted node replays from 1')
})

t.test('replica state hashes must agree at equal applied index', async (t) => {
  const inv = new Invariants(2)
  t.ok(inv.wantsHash(4))
  t.notOk(inv.wantsHash(3))
  inv.onHash(node('n1'), 4, 'aaa')
  inv.onHash(node('n2'), 4, 'aaa')
  t.throws(() => inv.onHash(node('n3'), 4, 'bbb'), /replica-state-hash/)
})

t.test('a message storm fails the run instead of hanging it', async (t) => {
  const sim = new Simulation({ ...defaultConfig(1, 3), scenario: 'random', bugs: [], trace: 'off' })
  // Every event schedules two: the queue doubles each millisecond.
  const spawn = (): void => {
    sim.queue.after(1, spawn)
    sim.queue.after(1, spawn)
  }
  sim.queue.after(1, spawn)
  t.throws(() => sim.runUntil(1_000), /message-storm: 2\d{4} events pending/)
  t.ok(sim.now < 30, `stopped at ${sim.now} ms, as soon as the queue passed the limit`)
})
