// Named fault scenarios (FAULTS.md). Each plans its faults on the simulation
// before it starts and may add watchers (checked after every event or every
// closed op) and a final check run after the generic end-of-run checks.
import type { NodeId } from '../raft/types.js'
import { fireFault, followers, scheduleRandomFaults, type FaultKind } from './faults.js'
import type { Prng } from './prng.js'
import { growShrink } from './scenario-grow-shrink.js'
import type { Simulation } from './simulation.js'
import type { SimNode } from './sim-node.js'
import { CRASH_POINTS, SimViolation, type SimConfig } from './types.js'

export interface Scenario {
  readonly about: string
  /** Adjusts the default configuration (timing, workload, disk). */
  readonly configure?: (cfg: SimConfig) => SimConfig
  /** Schedules faults; may return a check to run after finish(). */
  readonly plan: (sim: Simulation, prng: Prng) => (() => void) | void
}

const HOUR = 3_600_000

function fail(invariant: string, detail: string): never {
  throw new SimViolation(invariant, detail)
}

/** Runs `f` with the leader at `t`, or as soon after as there is one. */
function withLeader(sim: Simulation, t: number, f: (leader: SimNode) => void): void {
  sim.queue.at(t, () => {
    const l = sim.leader()
    if (l === null) withLeader(sim, sim.now + 20, f)
    else f(l)
  })
}

/** Repeats `f` at random intervals in [lo, hi] during the workload. */
function every(sim: Simulation, prng: Prng, lo: number, hi: number, f: () => void, start = 300): void {
  for (let t = start + prng.int(0, hi - lo); t < sim.cfg.workloadMs - 150; t += prng.int(lo, hi)) sim.queue.at(t, f)
}

const electionMs = (sim: Simulation): number => sim.cfg.electionTicks * sim.cfg.tickMs

const quorum = (sim: Simulation): number => Math.floor(sim.voterIds().length / 2) + 1

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  random: {
    about: 'a random mix of 2-5 fault kinds fired every 150-600 ms',
    plan: (sim, prng) => {
      const kinds = scheduleRandomFaults(sim, prng)
      const t = sim.trace
      t.on && t.log(`SCHEDULE random: ${kinds.join(',')}`)
    },
  },

  'figure8-churn': {
    about: 'the leader crashes just after proposing (its appends reach a random subset), over and over',
    configure: (c) => ({ ...c, maxBatchEntries: 2, diskLatency: [1, 20] }),
    plan: (sim, prng) => {
      every(sim, prng, 60, 250, () => {
        const l = sim.leader()
        if (l !== null) sim.armCrash(l.id, 'before-entries-write', prng.int(30, 400), true)
        if (prng.chance(0.3)) {
          const f = prng.pick(followers(sim))
          sim.crashFor(f, prng.int(50, 400))
        }
      })
    },
  },

  'figure8-classic': {
    about: "the Raft paper's Figure 8, driven by an adversary that reacts to the cluster's state (3 nodes)",
    configure: (c) => ({ ...c, nodes: 3, maxBatchEntries: 1 }),
    plan: (sim, prng) => {
      // A: leader L (term t) appends entries nobody else gets, then dies.
      // B: the others elect W (term t+1); W's no-op at index x reaches nobody; W dies.
      // C: L returns and wins (term t+2); it replicates its term-t entry at x.
      // D: the moment L's commit covers x, L dies with its messages in flight;
      //    W returns. With the Figure 8 bug, x was committed by counting old-term
      //    replicas, and W can now win and overwrite it.
      let phase: 'A' | 'B' | 'C' | 'D' | 'E' = 'A'
      let L = ''
      let W = ''
      let t = 0
      let x = 0
      withLeader(sim, prng.int(400, 800), (l) => {
        L = l.id
        t = l.core?.currentTerm ?? 0
        sim.isolate(L)
        sim.workload.issue({ clientId: 2000, kind: 'increment', key: 'a', cost: 1, node: L, maxAttempts: 1, deadlineMs: 100 })
        sim.queue.after(40, () => {
          sim.crash(L, 'figure8 A')
          phase = 'B'
        })
      })
      sim.watchers.push(() => {
        if (phase === 'B') {
          const l = sim.leader()
          if (l === null || l.id === L || l.core === null || l.core.currentTerm <= t) return
          W = l.id
          x = l.core.status().lastIndex
          sim.isolate(W)
          phase = 'C'
          sim.queue.after(30, () => {
            sim.crash(W, 'figure8 B')
            sim.rejoin(L)
            sim.restart(L)
          })
        } else if (phase === 'C') {
          const l = sim.leader()
          if (l === null || l.id !== L || l.core === null || l.core.currentTerm <= t + 1) return
          phase = l.core.entryAt(x)?.term === t ? 'D' : 'E'
        } else if (phase === 'D') {
          const n = sim.node(L)
          if (n.core === null || n.core.status().commit < x) return
          phase = 'E'
          sim.isolate(L)
          sim.crash(L, 'figure8 D')
          sim.queue.after(10, () => {
            sim.rejoin(W)
            sim.restart(W)
          })
          sim.queue.after(prng.int(600, 900), () => {
            sim.rejoin(L)
            sim.restart(L)
          })
        }
      })
    },
  },

  'leader-isolated': {
    about: 'the leader is cut off: it steps down by CheckQuorum, acknowledges nothing, the majority elects',
    plan: (sim) => {
      let start = Infinity
      let healAt = Infinity
      let isolated: NodeId | null = null
      let oldTerm = 0
      let newLeader = false
      withLeader(sim, 1000, (l) => {
        isolated = l.id
        oldTerm = l.core?.currentTerm ?? 0
        start = sim.now
        healAt = start + 1200
        sim.isolate(l.id)
        sim.queue.at(healAt, () => sim.heal())
      })
      // Two election timeouts (the longest randomized one) plus a tick.
      const stepDownBy = (): number => start + 2 * electionMs(sim) + sim.cfg.tickMs
      sim.watchers.push(() => {
        if (isolated === null || sim.now >= healAt) return
        const n = sim.node(isolated)
        if (sim.now >= stepDownBy() && n.core?.currentRole === 'leader') {
          fail('check-quorum-step-down', `${isolated} still leads ${sim.now - start} ms after being isolated`)
        }
        const l = sim.leader()
        if (l !== null && l.id !== isolated && (l.core?.currentTerm ?? 0) > oldTerm) newLeader = true
      })
      sim.opWatchers.push((op) => {
        if (op.outcome !== 'unknown' && op.answeredBy === isolated && op.call >= start && op.ret < healAt) {
          fail('isolated-leader-acknowledged', `${isolated} answered ${op.kind} ${op.requestId} while isolated`)
        }
      })
      return () => {
        if (isolated === null) fail('scenario-setup', 'no leader to isolate')
        if (!newLeader) fail('liveness', 'the majority did not elect a new leader while the old one was isolated')
      }
    },
  },

  'follower-isolated': {
    about: 'a follower is cut off, then healed: with PreVote the leader and term do not change',
    plan: (sim, prng) => {
      let leader: NodeId | null = null
      let term = 0
      let until = Infinity
      withLeader(sim, 1000, (l) => {
        leader = l.id
        term = l.core?.currentTerm ?? 0
        const f = prng.pick(followers(sim))
        sim.isolate(f)
        sim.queue.at(sim.now + 1000, () => sim.heal())
        until = sim.now + 2000
      })
      sim.watchers.push(() => {
        if (leader === null || sim.now > until) return
        const n = sim.node(leader)
        if (n.core?.currentRole !== 'leader' || n.core.currentTerm !== term) {
          fail('prevote-no-disruption', `leader ${leader} of term ${term} lost leadership (now ${n.core?.currentRole} term ${n.core?.currentTerm})`)
        }
      })
    },
  },

  'no-quorum': {
    about: 'a majority is down: nothing is acknowledged; progress resumes once it restarts',
    plan: (sim, prng) => {
      const start = 1000
      const end = 2000
      sim.queue.at(start, () => {
        const voters = sim.voterIds()
        const down = voters.length - quorum(sim) + 1
        for (const id of prng.shuffle(voters).slice(0, down)) sim.crashFor(id, end - start)
      })
      let resumed = false
      sim.opWatchers.push((op) => {
        if (op.outcome === 'unknown') return
        if (op.call >= start && op.ret < end) fail('no-quorum-acknowledged', `${op.kind} ${op.requestId} answered by ${op.answeredBy} with no quorum up`)
        if (op.call >= end) resumed = true
      })
      return () => {
        if (!resumed) fail('liveness', 'no operation succeeded after the majority restarted')
      }
    },
  },

  'divergent-log': {
    about: 'an isolated leader appends 60 entries; on heal they are truncated in few round trips',
    // One increment per entry, so the 60 increments make a 60-entry tail.
    configure: (c) => ({ ...c, maxItemsPerEntry: 1 }),
    plan: (sim) => {
      let old: NodeId | null = null
      let oldTerm = 0
      let healAt = Infinity
      let tail = 0
      /** First index of the divergent tail; replaced once the old leader holds a newer term there. */
      let from = 0
      let replaced = false
      let rejects = 0
      const burst: string[] = []
      withLeader(sim, 1000, (l) => {
        old = l.id
        oldTerm = l.core?.currentTerm ?? 0
        // Nobody else can hold what the isolated leader appends from here on.
        from = (l.core?.status().lastIndex ?? 0) + 1
        sim.isolate(l.id)
        for (let i = 0; i < 60; i++) {
          const op = sim.workload.issue({ clientId: 1000 + i, kind: 'increment', key: 'z', cost: 1, node: l.id, maxAttempts: 1, deadlineMs: 200 })
          burst.push(op.requestId)
        }
        healAt = sim.now + 1500
        sim.queue.at(healAt, () => {
          const st = sim.node(l.id).core?.status()
          tail = st === undefined ? 0 : st.lastIndex - from + 1
          sim.heal()
        })
      })
      // Rejections until the tail is replaced: with conflict hints about one per
      // divergent term (plus a few from reordered pipelined appends), not one per entry.
      sim.taps.push((m) => {
        if (m.from === old && sim.now >= healAt && !replaced && m.type === 'append_resp' && m.reject) rejects++
      })
      sim.watchers.push(() => {
        if (old === null || replaced || sim.now < healAt) return
        const core = sim.node(old).core
        if (core === null) return
        const term = core.termAt(from)
        // Overwritten entry by entry, or wholesale by an installed snapshot that covers it.
        if ((term !== undefined && term !== oldTerm) || core.status().snapshotIndex >= from) replaced = true
      })
      return () => {
        if (tail < 50) fail('scenario-setup', `the isolated leader appended only ${tail} entries while isolated`)
        if (!replaced) fail('divergent-tail-kept', `${old} still holds its term-${oldTerm} tail at index ${from}`)
        const log = sim.finalCommitted
        for (const rid of burst) {
          if (log?.committed.has(rid) === true) fail('divergent-tail-committed', `${rid}, proposed by the isolated leader, got committed`)
        }
        if (rejects > 8) fail('fast-backtracking', `${old} rejected ${rejects} appends before its ${tail}-entry divergent tail was replaced`)
      }
    },
  },

  unreliable: {
    about: '10% drop, 5% duplicate, 0-50 ms delay (reordering) for the whole workload',
    plan: (sim) => {
      sim.setLinkFaults({ drop: 0.1, duplicate: 0.05, delayMin: 0, delayMax: 50 })
    },
  },

  'crash-points': {
    about: 'nodes crash at every persistence point: before/after the hard state or entries write, before a vote write',
    configure: (c) => ({ ...c, diskLatency: [1, 30] }),
    plan: (sim, prng) => {
      every(sim, prng, 120, 300, () => {
        const alive = sim.alive()
        if (alive.length === 0) return
        sim.armCrash(prng.pick(alive).id, prng.pick(CRASH_POINTS), prng.int(20, 400))
      })
    },
  },

  'vote-races': {
    about: 'elections under churn while voters crash right after granting (before the vote is synced) and restart at once',
    configure: (c) => ({ ...c, netDelay: [1, 40], diskLatency: [2, 20] }),
    plan: (sim, prng) => {
      every(sim, prng, 150, 400, () => {
        const l = sim.leader()
        if (l !== null && prng.chance(0.7)) sim.crashFor(l.id, prng.int(100, 400))
        for (const n of sim.alive()) if (n.id !== l?.id) sim.armCrash(n.id, 'before-vote-write', prng.int(2, 15))
        if (prng.chance(0.5)) {
          const [a, b] = prng.shuffle(sim.ids)
          if (a !== undefined && b !== undefined) {
            sim.cutOneWay(a, b)
            sim.cutOneWay(b, a)
            sim.queue.after(prng.int(100, 400), () => sim.heal())
          }
        }
      })
    },
  },

  'lost-writes': {
    about: 'power loss while writes are in flight: un-synced entries and votes vanish',
    configure: (c) => ({ ...c, diskLatency: [5, 60] }),
    plan: (sim, prng) => {
      // A crash waits up to 100 ms for a node with a write in flight: a cluster
      // kept mostly down by the crashes writes seldom, and crashing an idle
      // node every time would lose nothing (seed 8101356 did).
      const powerLoss = (waited: number): void => {
        const alive = sim.alive()
        if (alive.length === 0) return
        const busy = alive.filter((n) => n.disk.inFlight > 0)
        if (busy.length === 0 && waited < 100) {
          sim.queue.after(5, () => powerLoss(waited + 5))
          return
        }
        const n = prng.pick(busy.length > 0 ? busy : alive)
        sim.crashFor(n.id, prng.int(50, 400), 'power loss')
      }
      every(sim, prng, 100, 300, () => powerLoss(0))
      return () => {
        const lost = sim.nodes.reduce((s, n) => s + n.disk.lost, 0)
        if (lost === 0) fail('scenario-setup', 'no un-synced write was ever lost')
      }
    },
  },

  'lost-acks': {
    about: 'followers crash right after taking entries while the leader cannot reach the others, then the leader dies',
    plan: (sim, prng) => {
      every(sim, prng, 250, 450, () => {
        const l = sim.leader()
        if (l === null) return
        const fs = prng.shuffle(followers(sim).filter((id) => sim.node(id).alive))
        const liars = fs.slice(0, quorum(sim) - 1)
        if (liars.length < quorum(sim) - 1) return
        for (const f of fs.slice(liars.length)) sim.cutOneWay(l.id, f)
        for (const f of liars) sim.armCrash(f, 'before-entries-write', prng.int(20, 60))
        sim.queue.after(60, () => {
          sim.crashFor(l.id, prng.int(200, 400))
          sim.heal()
        })
      })
    },
  },

  'clock-jumps': {
    about: "the leader's wall clock jumps by +-1 h; leaders change; buckets stay within [0, burst]",
    configure: (c) => ({ ...c, maxSkewMs: 500 }),
    plan: (sim, prng) => {
      every(sim, prng, 200, 500, () => {
        const l = sim.leader()
        if (l === null) return
        sim.clockJump(l.id, prng.chance(0.5) ? HOUR : -HOUR)
        if (prng.chance(0.25)) sim.crashFor(l.id, prng.int(100, 300))
      })
      sim.opWatchers.push((op) => {
        if (op.outcome === 'unknown') return
        const r = op.outcome.remaining
        if (!(r >= 0 && r <= sim.cfg.policy.burst)) fail('bucket-bounds', `${op.requestId} reports ${r} tokens left (burst ${sim.cfg.policy.burst})`)
      })
    },
  },

  'retry-across-jumps': {
    about: 'lossy links force client retries while the leader clock keeps jumping forward by 1 h (request-id dedup across jumps)',
    plan: (sim, prng) => {
      sim.setLinkFaults({ drop: 0.1, duplicate: 0.05, delayMin: 0, delayMax: 50 })
      every(sim, prng, 300, 600, () => {
        const l = sim.leader()
        if (l !== null) sim.clockJump(l.id, HOUR)
      })
    },
  },

  'partition-reads': {
    about: 'checks on every node while followers, leaders and one-way links are cut: no stale read',
    configure: (c) => ({ ...c, checkRatio: 0.6 }),
    plan: (sim, prng) => {
      const kinds: FaultKind[] = ['partition', 'isolate-leader', 'asymmetric']
      every(sim, prng, 200, 500, () => {
        if (prng.chance(0.5)) {
          const f = prng.pick(followers(sim))
          sim.isolate(f)
          sim.queue.after(prng.int(200, 800), () => sim.heal())
        } else fireFault(sim, prng, prng.pick(kinds))
      })
    },
  },

  'snapshot-catchup': {
    about: 'a follower cut off (or its disk wiped) while the others compact: it must catch up by InstallSnapshot, also when transfers are lost',
    configure: (c) => ({ ...c, snapshotEvery: 15 }),
    plan: (sim, prng) => {
      let target: NodeId | null = null
      let installsBefore = 0
      withLeader(sim, 400, (l) => {
        target = prng.pick(followers(sim).filter((f) => f !== l.id))
        const t = target
        installsBefore = sim.node(t).installs
        if (prng.chance(0.5)) sim.isolate(t)
        else sim.wipeFor(t, 1200)
        // Lossy links while it catches up: some chunks of the transfer go missing.
        sim.queue.at(1600, () => {
          sim.heal()
          sim.setLinkFaults({ drop: 0.2, duplicate: 0.05, delayMin: 0, delayMax: 30 })
        })
        sim.queue.at(2400, () => sim.setLinkFaults(sim.baseFaults))
      })
      return () => {
        if (target === null) fail('scenario-setup', 'no leader to pick a follower from')
        const n = sim.node(target)
        if (n.installs <= installsBefore) fail('snapshot-not-installed', `${target} caught up without installing a snapshot`)
      }
    },
  },

  'slow-disk': {
    about: "the leader's disk, then a follower's, takes 0.2-2 s per write: heartbeats still flow, no election",
    plan: (sim, prng) => {
      withLeader(sim, 500, (l) => {
        sim.setSlowDisk(l.id, [200, 2000])
        sim.queue.at(2000, () => {
          sim.setSlowDisk(l.id, null)
          const f = prng.pick(followers(sim))
          sim.setSlowDisk(f, [200, 2000])
          sim.queue.at(sim.cfg.workloadMs, () => sim.setSlowDisk(f, null))
        })
      })
      sim.queue.at(sim.cfg.workloadMs - 1, () => {
        if (sim.inv.elections !== 1) fail('slow-disk-no-election', `${sim.inv.elections} leaders were elected; a slow disk must not cost leadership`)
      })
    },
  },

  'grow-shrink': growShrink,
}

export const SCENARIO_NAMES = Object.keys(SCENARIOS)
