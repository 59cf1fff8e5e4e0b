// Each broken variant is caught within a bounded seed budget, by a schedule
// biased toward the fault that exposes it; and the very same seeds pass with
// the variant switched off, so the failure is the variant's, not the sim's.
import t from 'tap'
import { runSeed } from '../../src/sim/run.js'
import type { AnyBug } from '../../src/sim/types.js'

interface Case {
  readonly bug: AnyBug
  readonly scenario: string
  /** Invariants that may report it. */
  readonly caughtBy: readonly string[]
  readonly budget: number
}

const CASES: readonly Case[] = [
  { bug: 'commit_previous_term_by_counting', scenario: 'figure8-classic', caughtBy: ['leader-completeness', 'committed-entry-changed', 'state-machine-safety'], budget: 20 },
  { bug: 'vote_not_persisted_before_reply', scenario: 'vote-races', caughtBy: ['election-quorum', 'election-safety'], budget: 40 },
  { bug: 'append_acked_before_sync', scenario: 'lost-acks', caughtBy: ['commit-quorum', 'leader-completeness', 'committed-entry-changed', 'durability'], budget: 20 },
  { bug: 'follower_reads_locally', scenario: 'partition-reads', caughtBy: ['linearizability'], budget: 20 },
  { bug: 'apply_reads_local_clock', scenario: 'random', caughtBy: ['replica-state-hash'], budget: 20 },
  { bug: 'messages_wait_for_disk', scenario: 'slow-disk', caughtBy: ['slow-disk-no-election'], budget: 20 },
  { bug: 'snapshot_not_restored', scenario: 'snapshot-catchup', caughtBy: ['replica-state-hash', 'linearizability', 'admission'], budget: 20 },
  {
    bug: 'overlapping_conf_changes',
    scenario: 'grow-shrink',
    // Two configurations without a common majority: two leaders commit apart, or a removed voter campaigns on.
    caughtBy: ['leader-completeness', 'committed-entry-changed', 'election-safety', 'state-machine-safety', 'removed-node-disrupts', 'linearizability', 'durability'],
    budget: 10,
  },
]

for (const c of CASES) {
  t.test(`${c.bug} is caught (${c.scenario})`, async (t) => {
    let first: number | null = null
    for (let seed = 1; seed <= c.budget && first === null; seed++) {
      const r = runSeed({ seed, scenario: c.scenario, bugs: [c.bug] })
      if (r.ok) continue
      first = seed
      t.ok(c.caughtBy.includes(r.violation?.invariant ?? ''), `seed ${seed}: ${r.violation?.message ?? ''}`)
      t.comment(`replay: ${r.replay}`)
    }
    if (first === null) {
      t.fail(`not caught within ${c.budget} seeds`)
      return
    }
    t.pass(`caught at seed ${first} of a budget of ${c.budget}`)
    for (let seed = 1; seed <= first; seed++) {
      const r = runSeed({ seed, scenario: c.scenario })
      t.ok(r.ok, `seed ${seed} passes without the bug${r.ok ? '' : `: ${r.violation?.message ?? ''} -- ${r.replay}`}`)
    }
  })
}
