// The operator of the grow-shrink scenario (FAULTS 22): it grows the cluster
// by its spares (add as learner, wait until caught up, promote), then shrinks
// it back to its initial size by removing voters, the leader among them. It
// looks at the leader's configuration each time it acts, so refusals,
// elections and truncated changes are simply retried. It is impatient on
// purpose: right after a change is accepted it asks for the next one, which a
// correct core refuses while the first is pending. In split runs it also
// cuts the old majority off from the new one just before promoting both spares
// back to back: the schedule that makes overlapping changes unsafe.
import { quorumOf } from '../raft/config.js'
import type { ConfChange, NodeId, RaftStatus } from '../raft/types.js'
import type { Prng } from './prng.js'
import type { SimNode } from './sim-node.js'
import type { Simulation } from './simulation.js'

export interface OperatorOptions {
  /** Partition old voters from leader + spares while both spares are promoted. */
  readonly split: boolean
  /** Chance that a removal takes the leader itself. */
  readonly removeLeader: number
  /** Chance that a removed node is stopped for good once its removal commits (else left running). */
  readonly retire: number
}

export class MembershipOperator {
  /** Spares named in an accepted add_learner: from then on they may hold a log. */
  readonly added = new Set<NodeId>()
  /** Nodes whose removal is committed, with their term when it was noted (-1: down). */
  readonly removed = new Map<NodeId, number>()
  readonly refusals = new Map<string, number>()
  peakVoters: number
  accepted = 0
  splitDone = false
  /** While the split partition must hold (virtual ms); other faults stay away. */
  splitUntil = -1
  private readonly spares: readonly NodeId[]
  private grown = false

  constructor(
    private readonly sim: Simulation,
    private readonly prng: Prng,
    private readonly opts: OperatorOptions,
  ) {
    this.spares = sim.ids.filter((id) => !sim.initialVoters.includes(id))
    this.peakVoters = sim.initialVoters.length
  }

  get splitPlanned(): boolean {
    return this.opts.split
  }

  get splitting(): boolean {
    return this.sim.now < this.splitUntil
  }

  /** One round: note committed removals, then ask for the next change (and at once for the one after). */
  act(): void {
    this.noteCommitted()
    const leader = this.sim.leader()
    if (leader === null || leader.core === null) return
    const st = leader.core.status()
    const first = this.next(st)
    if (first === null) return
    const cut = this.opts.split && !this.splitDone && first.type === 'promote' ? this.splitGroups(leader.id, st) : null
    if (cut !== null) this.sim.partition(cut)
    if (!this.propose(leader, first)) {
      if (cut !== null) this.sim.heal()
      return
    }
    if (cut !== null) this.holdSplit(cut)
    // Impatience: a correct core refuses this one while the first is pending.
    const core = leader.core
    if (core?.currentRole !== 'leader') return
    const second = this.next(core.status())
    if (second !== null) this.propose(leader, second)
  }

  private next(st: RaftStatus): ConfChange | null {
    const leader = st.id
    if (!this.grown) {
      const absent = this.spares.find((s) => !st.voters.includes(s) && !st.learners.includes(s) && !this.removed.has(s))
      if (absent !== undefined) return { type: 'add_learner', id: absent }
      const ready = st.learners.filter((s) => this.caughtUp(st, s))
      // A split promotes both spares back to back: wait until both are ready.
      if (this.opts.split && !this.splitDone && (ready.length < st.learners.length || ready.length < 2 || this.sim.changePending())) return null
      const learner = ready[0]
      return learner === undefined ? null : { type: 'promote', id: learner }
    }
    if (st.voters.length <= this.sim.initialVoters.length) return null
    const others = st.voters.filter((v) => v !== leader)
    const victim = this.prng.chance(this.opts.removeLeader) || others.length === 0 ? leader : this.prng.pick(others)
    return { type: 'remove', id: victim }
  }

  /** Its progress match has reached the leader's commit index, and it is not still catching up after `rejoin`. */
  private caughtUp(st: RaftStatus, id: NodeId): boolean {
    const pr = st.progress.find((p) => p.id === id)
    return pr !== undefined && pr.match >= st.commit && pr.rejoining !== true
  }

  private propose(leader: SimNode, change: ConfChange): boolean {
    const r = leader.proposeConfChange(change)
    if (!r.ok) {
      this.refusals.set(r.reason, (this.refusals.get(r.reason) ?? 0) + 1)
      return false
    }
    this.accepted++
    if (change.type === 'add_learner') this.added.add(change.id)
    return true
  }

  /**
   * Leader and spares (plus as many old voters as a majority of the grown
   * configuration needs) on one side, a majority of the old voters on the other.
   */
  private splitGroups(leader: NodeId, st: RaftStatus): NodeId[][] {
    const others = this.prng.shuffle(st.voters.filter((v) => v !== leader))
    const grownQuorum = quorumOf({ voters: [...st.voters, ...st.learners], learners: [] })
    const joining = Math.max(0, grownQuorum - 1 - st.learners.length)
    const withLeader = [leader, ...st.learners, ...others.slice(0, joining)]
    return [withLeader, this.sim.ids.filter((id) => !withLeader.includes(id))]
  }

  /** Keeps the cut for 600-1000 ms, even against heals that earlier faults scheduled. */
  private holdSplit(groups: readonly NodeId[][]): void {
    this.splitDone = true
    this.splitUntil = this.sim.now + this.prng.int(600, 1000)
    const [a, b] = groups
    const hold = (): void => {
      if (!this.splitting) {
        this.sim.heal()
        return
      }
      if (a?.[0] !== undefined && b?.[0] !== undefined && !this.sim.net.isCut(a[0], b[0])) this.sim.partition(groups)
      this.sim.queue.after(10, hold)
    }
    this.sim.queue.after(10, hold)
  }

  /** Tracks growth and committed removals; a removed node is stopped later, or left running. */
  private noteCommitted(): void {
    const c = this.sim.committedConfig()
    this.peakVoters = Math.max(this.peakVoters, c.voters.length)
    if (!this.grown && this.spares.every((s) => c.voters.includes(s))) this.grown = true
    // Once grown, nobody is added again: a node in no configuration is removed for good.
    if (!this.grown) return
    for (const id of this.sim.ids) {
      if (this.removed.has(id) || c.voters.includes(id) || c.learners.includes(id)) continue
      this.removed.set(id, this.sim.node(id).core?.currentTerm ?? -1)
      if (this.prng.chance(this.opts.retire)) this.sim.queue.after(this.prng.int(50, 500), () => this.sim.retire(id))
    }
  }
}
