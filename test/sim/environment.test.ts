// Scenarios about the environment (FAULTS 9, 16, 18): unreliable network,
// slow disks, clock jumps.
import t from 'tap'
import { runSeed } from '../../src/sim/run.js'
import { expectCaught, expectPass } from './helpers.js'

t.test('unreliable network: 10% drop, 5% duplicate, 0-50 ms delay, reordering', async (t) => {
  expectPass(t, 'unreliable', 10)
})

t.test('slow disk: heartbeats are not blocked behind the disk, so no election happens', async (t) => {
  expectPass(t, 'slow-disk', 10)
  expectCaught(t, { scenario: 'slow-disk', bugs: ['messages_wait_for_disk'] }, 'slow-disk-no-election')
})

t.test('clock jumps of +-1 h on the leader: replicas identical, buckets within [0, burst]', async (t) => {
  expectPass(t, 'clock-jumps', 10)
  expectCaught(t, { scenario: 'random', bugs: ['apply_reads_local_clock'] }, 'replica-state-hash')
})

t.test('client retries across forward clock jumps spend a request id once (production dedup settings)', async (t) => {
  expectPass(t, 'retry-across-jumps', 10)
})

t.test('with expiry by log time alone, a +1 h jump makes a retry spend twice (the rule the apply count fixes)', async (t) => {
  // Seed 1 of retry-across-jumps: an increment commits, its answer is lost,
  // the leader's clock jumps +1 h, and the retry is applied again.
  const r = runSeed({ seed: 1, scenario: 'retry-across-jumps', configure: (c) => ({ ...c, dedupMinApplies: 0 }) })
  t.equal(r.ok, false, 'caught')
  t.ok(['linearizability', 'admission', 'durability'].includes(r.violation?.invariant ?? ''), r.violation?.message ?? '')
})
