// Fault actions and the generic random schedule: each seed picks a few fault
// kinds and fires them at random times during the workload. Decisions that
// depend on the cluster (who leads now, who votes now) are taken when the
// fault fires, from the current configuration rather than the initial one.
import type { NodeId } from '../raft/types.js'
import type { Prng } from './prng.js'
import type { Simulation } from './simulation.js'
import { CRASH_POINTS } from './types.js'

export const FAULT_KINDS = [
  'crash',
  'crash-leader-after-propose',
  'partition',
  'isolate-leader',
  'asymmetric',
  'unreliable',
  'clock-jump',
  'slow-disk',
  'crash-point',
  'transfer-leadership',
  'wipe-disk',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

const HOUR = 3_600_000

/** The current voters other than the leader. */
export function followers(sim: Simulation): NodeId[] {
  const l = sim.leader()
  return sim.voterIds().filter((id) => id !== l?.id)
}

/** Fires one fault of `kind` now; faults with a duration schedule their own end. */
export function fireFault(sim: Simulation, prng: Prng, kind: FaultKind): void {
  const ids = sim.ids
  const leader = sim.leader()
  switch (kind) {
    case 'crash': {
      const alive = sim.alive()
      if (alive.length <= 1) return
      sim.crashFor(prng.pick(alive).id, prng.int(50, 800))
      return
    }
    case 'crash-leader-after-propose':
      if (leader !== null) sim.armCrash(leader.id, 'before-entries-write', prng.int(50, 500), true)
      return
    case 'partition': {
      // A minority of the voters on one side; nodes outside the configuration land on either.
      const voters = sim.voterIds()
      const shuffled = prng.shuffle(voters)
      const cut = prng.int(1, Math.floor((voters.length - 1) / 2))
      const minority = shuffled.slice(0, cut)
      const rest = shuffled.slice(cut)
      for (const id of ids) if (!voters.includes(id)) (prng.chance(0.5) ? minority : rest).push(id)
      sim.partition([minority, rest])
      sim.queue.after(prng.int(200, 1000), () => sim.heal())
      return
    }
    case 'isolate-leader':
      if (leader === null) return
      sim.isolate(leader.id)
      sim.queue.after(prng.int(200, 1000), () => sim.heal())
      return
    case 'asymmetric': {
      const [a, b] = prng.shuffle(ids)
      if (a === undefined || b === undefined) return
      sim.cutOneWay(a, b)
      if (prng.chance(0.5)) {
        const c = prng.pick(ids.filter((x) => x !== a))
        sim.cutOneWay(c, a)
      }
      sim.queue.after(prng.int(200, 1000), () => sim.heal())
      return
    }
    case 'unreliable':
      sim.setLinkFaults({ drop: 0.1, duplicate: 0.05, delayMin: 0, delayMax: 50 })
      sim.queue.after(prng.int(300, 1500), () => sim.setLinkFaults(sim.baseFaults))
      return
    case 'clock-jump': {
      const target = leader ?? prng.pick(sim.nodes)
      sim.clockJump(target.id, prng.chance(0.5) ? HOUR : -HOUR)
      return
    }
    case 'slow-disk': {
      const id = prng.chance(0.5) && leader !== null ? leader.id : prng.pick(ids)
      sim.setSlowDisk(id, [200, 2000])
      sim.queue.after(prng.int(300, 1500), () => sim.setSlowDisk(id, null))
      return
    }
    case 'transfer-leadership': {
      const to = followers(sim)
      if (leader !== null && to.length > 0) leader.transferLeadership(prng.pick(to))
      return
    }
    case 'crash-point':
      sim.armCrash(prng.pick(ids), prng.pick(CRASH_POINTS), prng.int(20, 500))
      return
    case 'wipe-disk': {
      // Raft survives losing a minority's data, one node at a time: only wipe
      // a follower while every member is up, has applied the leader's commit
      // and has finished rejoining, and no membership change is under way. A
      // node still rejoining refuses votes even once it has applied a
      // snapshot, so wiping another node then leaves no quorum that can elect.
      const commit = leader?.core?.status().commit ?? -1
      const caughtUp = sim.memberIds().every((id) => {
        const n = sim.node(id)
        return n.alive && n.core !== null && n.applied >= commit && !n.rejoin
      })
      const to = followers(sim)
      if (leader !== null && caughtUp && !sim.changePending() && to.length > 0) sim.wipeFor(prng.pick(to), prng.int(50, 800))
      return
    }
  }
}

/** The generic schedule: a random subset of fault kinds, fired every 150–600 ms. */
export function scheduleRandomFaults(sim: Simulation, prng: Prng, kinds: readonly FaultKind[] = pickKinds(prng)): FaultKind[] {
  const end = sim.cfg.workloadMs - 200
  let t = prng.int(200, 500)
  while (t < end) {
    const kind = prng.pick(kinds)
    sim.queue.at(t, () => fireFault(sim, prng, kind))
    t += prng.int(150, 600)
  }
  return [...kinds]
}

export function pickKinds(prng: Prng): FaultKind[] {
  return prng.shuffle(FAULT_KINDS).slice(0, prng.int(2, 5))
}
