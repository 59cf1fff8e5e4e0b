// Quorum checks that count the voters of the configuration in effect, read
// from the disks rather than from the core's own bookkeeping. With
// single-server changes a configuration takes effect on the leader as soon as
// it is in its log (thesis §4.1), so "in effect" for a leader's decision is the
// latest configuration in the leader's log at that moment; a fixed node list
// would be wrong as soon as the cluster grows or shrinks.
import type { NodeId } from '../raft/types.js'
import type { DurableHistory } from './durable-history.js'
import { SimViolation } from './types.js'

export type HistoryOf = (id: NodeId) => DurableHistory | undefined

const majority = (voters: readonly NodeId[]): number => Math.floor(voters.length / 2) + 1

/** A leader committed `index` (of `term`): a majority of its voters must have synced that entry. */
export function checkCommitQuorum(leader: NodeId, voters: readonly NodeId[], index: number, term: number, historyOf: HistoryOf): void {
  const holders = voters.filter((v) => historyOf(v)?.held(index, term) === true)
  if (holders.length >= majority(voters)) return
  throw new SimViolation(
    'commit-quorum',
    `${leader} committed ${index}@${term} but only ${holders.length} of its voters [${voters.join(',')}] had synced it (${holders.join(',') || 'none'})`,
  )
}

/** A new leader of `term`: a majority of its voters (itself included) must have durably voted for it. */
export function checkElectionQuorum(leader: NodeId, voters: readonly NodeId[], term: number, historyOf: HistoryOf): void {
  const granted = voters.filter((v) => v === leader || historyOf(v)?.votedFor(term, leader) === true)
  if (granted.length >= majority(voters)) return
  throw new SimViolation(
    'election-quorum',
    `${leader} leads term ${term} with durable votes from only ${granted.length} of its voters [${voters.join(',')}] (${granted.join(',')})`,
  )
}
