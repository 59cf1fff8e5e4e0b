// The port the node driver uses to talk to its peers. Adapters (undici today)
// implement it; driver tests can use an in-memory fake.
import { RateLimiterError, type ErrorCode } from '../errors.js'
import type { InstallSnapshot, Message, NodeId } from '../raft/types.js'
import type { IncrementInput, RateDecision } from '../service.js'

export interface PeerAddress {
  readonly id: NodeId
  readonly host: string
  readonly port: number
}

/** Detail of a forward to a node the transport has no link to (not, or no longer, a member). */
export const UNKNOWN_PEER = 'is not a known peer'

/**
 * True when a forward provably never left this node (no connection was made,
 * or there is no link to that node): it may be sent elsewhere.
 */
export function neverSent(err: unknown): boolean {
  return err instanceof RateLimiterError && err.neverSent
}

export type ForwardOutcome =
  | { readonly ok: true; readonly decision: RateDecision }
  | { readonly ok: false; readonly code: ErrorCode }

export interface Transport {
  /** Fire and forget; messages are grouped per destination and sent in batches. Never throws, never blocks the caller. */
  send(messages: readonly Message[]): void
  /**
   * Forward a batch of increments to the leader; resolves one outcome per input, in order.
   * Rejects (with RateLimiterError NO_LEADER / NO_QUORUM) if the peer cannot be reached before the timeout.
   */
  forward(to: NodeId, inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]>
  /** Delivers a whole InstallSnapshot (in chunks, with flow control); rejects if any part fails. */
  sendSnapshot(message: InstallSnapshot): Promise<void>
  /**
   * The members to talk to from now on (this node may be listed; it is skipped):
   * links to new members open, links to members no longer listed (or moved) close.
   */
  setPeers(peers: readonly PeerAddress[]): void
  close(): Promise<void>
}
