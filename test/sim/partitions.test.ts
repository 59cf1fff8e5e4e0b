// Scenarios about partitions (FAULTS 5, 6, 7, 11, 21): each passes on 3 and
// 5 nodes, and its specific check fails when the protection is turned off.
import t from 'tap'
import { expectCaught, expectPass } from './helpers.js'

t.test('leader isolated: steps down by CheckQuorum, acknowledges nothing, the majority elects', async (t) => {
  expectPass(t, 'leader-isolated', 10)
  expectCaught(t, { scenario: 'leader-isolated', configure: (c) => ({ ...c, checkQuorum: false }) }, 'check-quorum-step-down')
})

t.test('follower isolated then healed: with PreVote, no leader change', async (t) => {
  expectPass(t, 'follower-isolated', 10)
  expectCaught(t, { scenario: 'follower-isolated', configure: (c) => ({ ...c, preVote: false }) }, 'prevote-no-disruption')
})

t.test('no quorum: nothing acknowledged; progress resumes on heal', async (t) => {
  expectPass(t, 'no-quorum', 10)
  expectCaught(t, { scenario: 'no-quorum', bugs: ['follower_reads_locally'] }, 'no-quorum-acknowledged')
})

t.test('divergent log of 50+ entries on a minority leader is truncated on heal, in few round trips', async (t) => {
  expectPass(t, 'divergent-log', 10)
})

t.test('reads on every node during partitions are never older than a completed write', async (t) => {
  expectPass(t, 'partition-reads', 10)
  expectCaught(t, { scenario: 'partition-reads', bugs: ['follower_reads_locally'] }, 'linearizability')
})
