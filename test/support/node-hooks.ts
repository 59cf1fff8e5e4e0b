// The driver hooks a RateLimiterNode needs, wired as start-node.ts wires them
// (minus logging and rejoin), for tests that run a node on a real driver.
import type { DriverHooks } from '../../src/node/raft-driver.js'
import type { RateLimiterNode } from '../../src/node/rate-limiter-node.js'

export function nodeHooks(node: RateLimiterNode, onFatal: (err: unknown) => void): DriverHooks {
  return {
    onApply: (entries) => node.onApply(entries),
    onReadStates: (states) => node.onReadStates(states),
    onDroppedReads: (ctxs) => node.onDroppedReads(ctxs),
    onTick: () => node.onTick(),
    beforeReady: () => node.beforeReady(),
    onRestore: (snapshot) => node.onRestore(snapshot),
    snapshotLines: () => node.snapshotLines(),
    stateEntries: () => node.stateEntries(),
    onFatal,
  }
}
