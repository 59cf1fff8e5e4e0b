// Default knobs of a simulated run. Virtual time keeps each schedule to a few
// seconds and a few hundred client ops, so a batch runs tens of seeds a second.
import { DEFAULT_DEDUP_MIN_APPLIES, DEFAULT_DEDUP_TTL_MS } from '../ratelimit/state-machine.js'
import type { SimConfig } from './types.js'

export function defaultConfig(seed: number, nodes: number): SimConfig {
  return {
    seed,
    nodes,
    spares: 0,
    scenario: 'random',
    bugs: [],
    trace: 'off',
    tickMs: 20,
    electionTicks: 10,
    heartbeatTicks: 2,
    maxInflight: 4,
    maxBatchEntries: 16,
    // Some seeds hold entries back from followers a commit does not need.
    spareBatchEntries: [0, 3, 8][Math.floor(seed / 3) % 3] ?? 0,
    preVote: true,
    checkQuorum: true,
    netDelay: [1, 20],
    clientDelay: [1, 5],
    diskLatency: [1, 5],
    maxSkewMs: 50,
    workloadMs: 3000,
    settleMs: 1000,
    randomFaults: true,
    clients: 8,
    keys: ['a', 'b', 'c'],
    maxCost: 3,
    checkRatio: 0.3,
    thinkMs: [5, 40],
    attemptTimeoutMs: 200,
    opDeadlineMs: 800,
    // Demand (~200 tokens per key over a run) exceeds supply, so both answers occur.
    policy: { refill: 40, windowMs: 1000, burst: 15 },
    // Some seeds split a busy instant over several entries, some put each increment in its own.
    maxItemsPerEntry: [8, 2, 1][seed % 3] ?? 8,
    proposeBatchMs: 2,
    dedupTtlMs: DEFAULT_DEDUP_TTL_MS,
    dedupMinApplies: DEFAULT_DEDUP_MIN_APPLIES,
    // Most seeds compact often, so followers that fall behind catch up by InstallSnapshot.
    snapshotEvery: [0, 10, 25, 60][seed % 4] ?? 0,
    snapshotTimeoutTicks: 40,
    linearizabilitySteps: 300_000,
  }
}
