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

/**
 * Hooks for a driver with no state machine behind it: entries count one
 * record each, reads and ticks are ignored, a write failure throws. Tests
 * override what they watch.
 */
export function bareHooks(overrides: Partial<DriverHooks> = {}): DriverHooks {
  return {
    onApply: (entries) => entries.length,
    onReadStates: () => {},
    onDroppedReads: () => {},
    onTick: () => {},
    beforeReady: () => {},
    onFatal: (err) => {
      throw err
    },
    onRestore: () => {},
    snapshotLines: () => Object.assign((async function* none() {})(), { close: () => {} }),
    stateEntries: () => 0,
    ...overrides,
  }
}
