// Nodes outside the configuration must not disturb the cluster:
//  - a spare that was never added stays a quiet follower (`rejoin` keeps it
//    from campaigning, though its initial configuration names it a voter);
//  - a node whose removal is committed, and that knows it (its own commit
//    index covers the entry), never starts an election: it never becomes
//    candidate or leader at a term above the one it had when the removal was
//    noted (a removed leader may lead on in its own term until it learns of
//    the commit or CheckQuorum steps it down). One that holds its removal but
//    not its commit may campaign, to commit it (RaftCore.removalPending); it
//    counts only the new configuration's votes. One that lacks the entry
//    cannot even bump a term, with PreVote: a majority of any older
//    configuration it knows overlaps the majority that committed the next
//    one, whose logs are ahead of its own, so its pre-vote fails.
import type { MembershipOperator } from './membership-operator.js'
import type { Simulation } from './simulation.js'
import { SimViolation } from './types.js'

export function watchOutsiders(sim: Simulation, operator: MembershipOperator): () => void {
  const spares = sim.ids.filter((id) => !sim.initialVoters.includes(id))
  return () => {
    for (const id of spares) {
      if (operator.added.has(id)) continue
      const role = sim.node(id).core?.currentRole
      if (role !== undefined && role !== 'follower') {
        throw new SimViolation('spare-disrupts', `${id}, a spare never added to the cluster, became ${role}`)
      }
    }
    for (const [id, termAtRemoval] of operator.removed) {
      const core = sim.node(id).core
      if (core === null || core.currentTerm <= termAtRemoval) continue
      const knows = core.configAt(core.status().commit)?.voters.includes(id) === false
      if (knows && (core.currentRole === 'candidate' || core.currentRole === 'leader')) {
        throw new SimViolation('removed-node-disrupts', `${id} became ${core.currentRole} of term ${core.currentTerm} after its removal committed (at term ${termAtRemoval})`)
      }
    }
  }
}
