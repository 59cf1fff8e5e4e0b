// Node n1 on a real driver whose peers never answer: its transport drops
// every message and its logger says nothing. For tests of one node's own
// behaviour (one voter, or three of which only n1 runs).
import type { Test } from 'tap'
import { RaftDriver, type DriverHooks } from '../../src/node/raft-driver.js'
import { RateLimiterNode } from '../../src/node/rate-limiter-node.js'
import type { Message } from '../../src/raft/types.js'
import type { LogStore } from '../../src/storage/port.js'
import type { Transport } from '../../src/transport/port.js'
import { nodeHooks } from './node-hooks.js'

const quiet = { info: () => {}, warn: () => {}, error: () => {} }

const noTransport: Transport = {
  send: (_m: readonly Message[]) => {},
  forward: () => Promise.reject(new Error('not used')),
  sendSnapshot: () => Promise.resolve(),
  setPeers: () => {},
  close: () => Promise.resolve(),
}

export interface SilentNodeOptions {
  readonly voters: string[]
  readonly store: LogStore
  readonly requestTimeoutMs: number
  /** Hooks that replace the standard ones (node-hooks.ts). */
  readonly hooks?: (node: RateLimiterNode) => Partial<DriverHooks>
}

/** Starts n1 (policy: 10 tokens a second, burst 10; 5 ms ticks); stopped when the test ends. */
export async function startSilentNode(t: Test, opts: SilentNodeOptions): Promise<RateLimiterNode> {
  const node = new RateLimiterNode({ id: 'n1', policy: { refill: 10, windowMs: 1000, burst: 10 }, requestTimeoutMs: opts.requestTimeoutMs, transport: noTransport, logger: quiet })
  const driver = new RaftDriver({
    raft: { id: 'n1', voters: opts.voters, electionTicks: 5, heartbeatTicks: 1, maxInflight: 8, maxBatchEntries: 100, preVote: true, checkQuorum: true },
    tickMs: 5,
    snapshotEntries: 1_000_000,
    store: opts.store,
    transport: noTransport,
    restored: await opts.store.load(),
    hooks: { ...nodeHooks(node, (err) => t.fail(String(err))), ...opts.hooks?.(node) },
  })
  node.attach(driver)
  driver.start()
  t.teardown(() => driver.stop())
  return node
}
