// An in-memory RateLimiterService for HTTP tests: integer token buckets with no
// clock, a switch to make every call fail, and a record of what was asked.
import type { ClusterStatus, IncrementInput, MembershipResult, RateDecision, RateLimiterService, TransferResult } from '../../src/service.js'
import type { ConfChange, RaftStatus } from '../../src/raft/types.js'

export class FakeRateLimiter implements RateLimiterService {
  readonly burst: number
  readonly refill: number
  readonly windowSec: number
  /** When set, increment and check reject with it. */
  failure: unknown = null
  ready = true
  raft: RaftStatus = {
    id: 'node-1',
    role: 'leader',
    term: 7,
    vote: 'node-1',
    leader: 'node-1',
    commit: 42,
    applied: 41,
    firstIndex: 1, snapshotIndex: 0, lastIndex: 43,
    persistedIndex: 43,
    voters: ['node-1', 'node-2'],
    learners: ['node-3'],
    progress: [{ id: 'node-2', match: 42, next: 44, state: 'replicate', inflight: 1, recentActive: true }],
  }
  readonly incrementCalls: IncrementInput[] = []
  readonly checkCalls: string[] = []
  private readonly tokens = new Map<string, number>()

  constructor(burst = 5, refill = 5, windowSec = 60) {
    this.burst = burst
    this.refill = refill
    this.windowSec = windowSec
  }

  async increment(input: IncrementInput): Promise<RateDecision> {
    this.incrementCalls.push(input)
    if (this.failure !== null) throw this.failure
    const have = this.tokens.get(input.clientId) ?? this.burst
    const admitted = have >= input.cost
    const left = admitted ? have - input.cost : have
    this.tokens.set(input.clientId, left)
    return this.decision(admitted, left, admitted ? 0 : input.cost - have)
  }

  async check(clientId: string): Promise<RateDecision> {
    this.checkCalls.push(clientId)
    if (this.failure !== null) throw this.failure
    const have = this.tokens.get(clientId) ?? this.burst
    return this.decision(have >= 1, have, have >= 1 ? 0 : 1 - have)
  }

  status(opts: { readonly hash?: boolean } = {}): ClusterStatus {
    return {
      node: 'node-1',
      raft: this.raft,
      leaderAddress: '127.0.0.1:20001',
      ready: this.ready,
      buckets: this.tokens.size,
      requestIds: 0,
      ...(opts.hash === true ? { stateHash: `fake-${this.tokens.size}` } : {}),
    }
  }

  /** What a transfer request asked for; `transferResult` (or error) is what it gets. */
  readonly transferCalls: (string | undefined)[] = []
  transferOutcome: TransferResult | Error = { leader: 'node-2', term: 8 }

  async transferLeadership(to: string | undefined): Promise<TransferResult> {
    this.transferCalls.push(to)
    if (this.transferOutcome instanceof Error) throw this.transferOutcome
    return this.transferOutcome
  }

  /** What membership changes were asked for; `membershipOutcome` (or error) is what they get. */
  readonly membershipCalls: ConfChange[] = []
  membershipOutcome: MembershipResult | Error = { index: 50, voters: ['node-1', 'node-2'], learners: ['node-3', 'node-4'] }

  async changeMembership(change: ConfChange): Promise<MembershipResult> {
    this.membershipCalls.push(change)
    if (this.membershipOutcome instanceof Error) throw this.membershipOutcome
    return this.membershipOutcome
  }

  isReady(): boolean {
    return this.ready
  }

  private decision(result: boolean, remaining: number, missing: number): RateDecision {
    const secPerToken = this.windowSec / this.refill
    return {
      result,
      remaining,
      limit: this.burst,
      refill: this.refill,
      windowSec: this.windowSec,
      resetSec: (this.burst - remaining) * secPerToken,
      retryAfterSec: missing * secPerToken,
    }
  }
}
