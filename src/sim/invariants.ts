// Raft and replica invariants, checked incrementally after every step so a
// violation is reported at the event that caused it:
//  - election safety: one leader per term, ever;
//  - log matching: an (index, term) always carries the same entry and the same
//    previous term (so equal (index, term) implies equal prefixes, by induction);
//  - leader append-only: a leader never rewrites entries it handed out in its term;
//  - leader completeness: every committed entry is in the log of each leader of
//    a later term; a committed index never changes its entry;
//  - state machine safety: the same (index, term, data) is applied at each index on
//    every node, applied indexes move by exactly one within a node's life;
//  - replicas' state hashes are equal at equal applied index;
//  - with disks to read (quorum-checks.ts): a new leader holds durable votes of a
//    majority of its configuration's voters, and what a leader commits is synced
//    on a majority of them.
import { decodeConfig } from '../raft/config.js'
import type { RaftCore } from '../raft/core.js'
import type { ClusterConfig, Entry, Ready } from '../raft/types.js'
import { checkCommitQuorum, checkElectionQuorum, type HistoryOf } from './quorum-checks.js'
import type { NodeObserver, SimNode } from './sim-node.js'
import { SimViolation } from './types.js'

interface Known {
  readonly term: number
  readonly kind: Entry['kind']
  readonly data: string
}

interface Committed extends Known {
  /** A term at which the entry was already committed (an upper bound of the committing term). */
  readonly commitTerm: number
  readonly seenOn: string
}

interface NodeWatch {
  incarnation: number
  applied: number
  seenCommit: number
  /** Leader append-only bookkeeping, for the term this node leads (or -1). */
  leaderTerm: number
  leaderLastIndex: number
  leaderLastTerm: number
  handedMax: number
}

export class Invariants implements NodeObserver {
  private readonly leaderOfTerm = new Map<number, string>()
  private readonly byIndexTerm = new Map<string, Known & { prevTerm: number; node: string }>()
  private readonly committed: (Committed | undefined)[] = []
  private readonly applied: (Known | undefined)[] = []
  private readonly hashes = new Map<number, { hash: string; node: string }>()
  private readonly watch = new Map<string, NodeWatch>()
  private lastConfig: { readonly index: number; readonly config: ClusterConfig } | null = null
  elections = 0
  /** Configuration entries committed (membership changes that took hold). */
  configChanges = 0

  /** Without `historyOf` (hand-fed tests) the quorum checks are skipped. */
  constructor(
    private readonly hashEvery: number,
    private readonly historyOf?: HistoryOf,
  ) {}

  /** The newest configuration ever seen committed, or null while the initial one holds. */
  get committedConfig(): ClusterConfig | null {
    return this.lastConfig?.config ?? null
  }

  get maxCommitted(): number {
    return this.committed.length - 1
  }

  committedAt(index: number): Committed | undefined {
    return this.committed[index]
  }

  private w(node: SimNode): NodeWatch {
    let w = this.watch.get(node.id)
    if (w === undefined || w.incarnation !== node.incarnation) {
      w = { incarnation: node.incarnation, applied: 0, seenCommit: 0, leaderTerm: -1, leaderLastIndex: 0, leaderLastTerm: 0, handedMax: 0 }
      this.watch.set(node.id, w)
    }
    return w
  }

  onReady(node: SimNode, core: RaftCore, rd: Ready): void {
    const first = rd.entries[0]
    if (first === undefined) return
    const w = this.w(node)
    const isLeader = core.currentRole === 'leader'
    if (isLeader && w.leaderTerm === core.currentTerm && first.index <= w.handedMax) {
      throw new SimViolation('leader-append-only', `${node.id} (leader of term ${core.currentTerm}) rewrites from index ${first.index}, it had handed out up to ${w.handedMax}`)
    }
    let prevTerm = first.index === 1 ? 0 : (core.termAt(first.index - 1) ?? -1)
    for (const e of rd.entries) {
      const key = `${e.index}:${e.term}`
      const seen = this.byIndexTerm.get(key)
      if (seen === undefined) {
        this.byIndexTerm.set(key, { term: e.term, kind: e.kind, data: e.data, prevTerm, node: node.id })
      } else if (seen.kind !== e.kind || seen.data !== e.data || seen.prevTerm !== prevTerm) {
        throw new SimViolation(
          'log-matching',
          `entry ${key} on ${node.id} (${e.kind} ${e.data}, prev term ${prevTerm}) differs from ${seen.node}'s (${seen.kind} ${seen.data}, prev term ${seen.prevTerm})`,
        )
      }
      prevTerm = e.term
    }
    if (isLeader) {
      if (w.leaderTerm !== core.currentTerm) w.handedMax = 0
      w.handedMax = Math.max(w.handedMax, rd.entries[rd.entries.length - 1]?.index ?? 0)
    }
  }

  onRestore(node: SimNode, index: number): void {
    const w = this.w(node)
    if (index < w.applied) {
      throw new SimViolation('applied-index-monotonic', `${node.id} restores a snapshot at ${index} after applying ${w.applied}`)
    }
    w.applied = index
  }

  onApply(node: SimNode, e: Entry): void {
    const w = this.w(node)
    if (e.index !== w.applied + 1) {
      throw new SimViolation('applied-index-monotonic', `${node.id} applies index ${e.index} after ${w.applied}`)
    }
    w.applied = e.index
    const canon = this.applied[e.index]
    if (canon === undefined) {
      this.applied[e.index] = { term: e.term, kind: e.kind, data: e.data }
    } else if (canon.term !== e.term || canon.data !== e.data || canon.kind !== e.kind) {
      throw new SimViolation(
        'state-machine-safety',
        `${node.id} applies ${e.index}@${e.term} ${e.kind} ${e.data}; another node applied ${e.index}@${canon.term} ${canon.kind} ${canon.data}`,
      )
    }
  }

  wantsHash(index: number): boolean {
    return index % this.hashEvery === 0
  }

  onHash(node: SimNode, index: number, hash: string): void {
    const seen = this.hashes.get(index)
    if (seen === undefined) this.hashes.set(index, { hash, node: node.id })
    else if (seen.hash !== hash) {
      throw new SimViolation('replica-state-hash', `${node.id} has state hash ${hash} at applied index ${index}, ${seen.node} had ${seen.hash}`)
    }
  }

  afterStep(node: SimNode): void {
    const core = node.core
    if (core === null) return
    const w = this.w(node)
    const term = core.currentTerm
    const st = core.status()
    if (core.currentRole === 'leader') {
      const prev = this.leaderOfTerm.get(term)
      if (prev === undefined) {
        this.leaderOfTerm.set(term, node.id)
        this.elections++
        this.checkCompleteness(node, core, term)
        if (this.historyOf !== undefined) checkElectionQuorum(node.id, st.voters, term, this.historyOf)
      } else if (prev !== node.id) {
        throw new SimViolation('election-safety', `${node.id} and ${prev} are both leaders of term ${term}`)
      }
      if (w.leaderTerm === term) {
        if (st.lastIndex < w.leaderLastIndex || core.termAt(w.leaderLastIndex) !== w.leaderLastTerm) {
          throw new SimViolation('leader-append-only', `${node.id}, leader of term ${term}, lost or replaced its entry ${w.leaderLastIndex}@${w.leaderLastTerm}`)
        }
      } else {
        w.leaderTerm = term
        w.handedMax = 0
      }
      w.leaderLastIndex = st.lastIndex
      w.leaderLastTerm = core.termAt(st.lastIndex) ?? 0
    } else {
      w.leaderTerm = -1
    }
    for (let i = Math.max(w.seenCommit, st.snapshotIndex) + 1; i <= st.commit; i++) {
      // Entries a snapshot covers are checked through the replicas' state hashes instead.
      const e = core.entryAt(i)
      if (e === undefined) throw new SimViolation('commit-beyond-log', `${node.id} commits ${st.commit} past its log`)
      const c = this.committed[i]
      if (c === undefined) {
        this.committed[i] = { term: e.term, kind: e.kind, data: e.data, commitTerm: term, seenOn: node.id }
        if (e.kind === 'config') this.onConfigCommitted(i, e.data)
      } else if (c.term !== e.term || c.data !== e.data) {
        throw new SimViolation(
          'committed-entry-changed',
          `${node.id} has ${i}@${e.term} committed, but ${c.seenOn} had committed ${i}@${c.term} (${c.data})`,
        )
      }
    }
    if (st.commit > w.seenCommit) {
      const t = core.termAt(st.commit)
      if (core.currentRole === 'leader' && this.historyOf !== undefined && t !== undefined) {
        // Counting the commit point suffices: an ack of it vouches for the prefix (log matching).
        checkCommitQuorum(node.id, st.voters, st.commit, t, this.historyOf)
      }
      w.seenCommit = st.commit
    }
  }

  private onConfigCommitted(index: number, data: string): void {
    this.configChanges++
    if (this.lastConfig !== null && this.lastConfig.index > index) return
    const config = decodeConfig(data)
    if (typeof config === 'string') throw new SimViolation('config-entry', `committed config entry ${index} does not decode: ${config}`)
    this.lastConfig = { index, config }
  }

  /** A new leader of `term` must hold every entry committed at an earlier term. */
  private checkCompleteness(node: SimNode, core: RaftCore, term: number): void {
    // Below its snapshot the leader holds state, not entries: the state hashes check that part.
    for (let i = core.status().snapshotIndex + 1; i < this.committed.length; i++) {
      const c = this.committed[i]
      if (c === undefined || c.commitTerm >= term) continue
      if (core.entryAt(i)?.term !== c.term) {
        throw new SimViolation(
          'leader-completeness',
          `${node.id} leads term ${term} without committed entry ${i}@${c.term} (committed by term ${c.commitTerm}, seen on ${c.seenOn})`,
        )
      }
    }
  }
}
