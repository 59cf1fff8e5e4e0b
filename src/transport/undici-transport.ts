// The Transport port over HTTP/1.1 keep-alive with undici (DESIGN §6): routes
// each message to its peer's link; the links batch them per turn and stream
// them to the peer, which answers over its own stream to us.
import { RateLimiterError } from '../errors.js'
import type { InstallSnapshot, Message, NodeId } from '../raft/types.js'
import type { IncrementInput } from '../service.js'
import type { StreamAnswer } from './message-codec.js'
import { originOf, PeerLink, type PeerLinkOptions, type PeerLinkStats, type TransportLogger } from './peer-link.js'
import { DEFAULT_SNAPSHOT_CHUNK_BYTES, FROM_HEADER, SECRET_HEADER } from './peer-protocol.js'
import { UNKNOWN_PEER, type ForwardOutcome, type PeerAddress, type Transport } from './port.js'
import { SnapshotSender } from './snapshot-sender.js'

export type { PeerLinkStats, TransportLogger } from './peer-link.js'

export interface UndiciTransportOptions {
  readonly self: NodeId
  /** May include this node itself (CLUSTERS lists every member); it is skipped. */
  readonly peers: readonly PeerAddress[]
  readonly secret: string
  /** Connect and header timeout of a message stream; a stream silent this long fails and reopens. */
  readonly timeoutMs: number
  /** Whole deadline of one forward; defaults to timeoutMs. Should cover the leader's commit time. */
  readonly forwardTimeoutMs?: number
  /** Per peer bytes of message frames not yet taken by the socket; beyond it new batches are dropped. */
  readonly maxBufferedBytes?: number
  readonly maxBatchMessages?: number
  /** Per peer connections for forwarded increments. */
  readonly forwardConnections?: number
  /** Bytes per InstallSnapshot chunk. */
  readonly snapshotChunkBytes?: number
  readonly logger?: TransportLogger
}

export interface TransportStats {
  readonly peers: Readonly<Record<NodeId, PeerLinkStats>>
  /** Messages addressed to a node that is not a known peer. */
  readonly unroutableMessages: number
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`transport ${name} must be a positive integer, got ${value}`)
  return value
}

export class UndiciTransport implements Transport {
  private readonly links = new Map<NodeId, PeerLink>()
  /**
   * Links of members that left, kept for up to one forward deadline (less if
   * the stream breaks) so the answers to forwards they sent before they heard
   * of their removal still reach them: those increments sit in entries
   * decided after the removal. Nothing else is sent on them.
   */
  private readonly departed = new Map<NodeId, PeerLink>()
  private readonly snapshotSenders = new Map<NodeId, SnapshotSender>()
  private unroutableMessages = 0
  private closed = false

  private readonly self: NodeId
  private readonly shared: Omit<PeerLinkOptions, 'peer'>
  private readonly secret: string
  private readonly chunkBytes: number

  constructor(opts: UndiciTransportOptions) {
    if (opts.secret.length === 0) throw new Error('transport secret must not be empty')
    const timeoutMs = positiveInt('timeoutMs', opts.timeoutMs)
    this.self = opts.self
    this.secret = opts.secret
    this.chunkBytes = positiveInt('snapshotChunkBytes', opts.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES)
    this.shared = {
      self: opts.self,
      secret: opts.secret,
      timeoutMs,
      forwardTimeoutMs: positiveInt('forwardTimeoutMs', opts.forwardTimeoutMs ?? timeoutMs),
      maxBufferedBytes: positiveInt('maxBufferedBytes', opts.maxBufferedBytes ?? 16 * 1024 * 1024),
      maxBatchMessages: positiveInt('maxBatchMessages', opts.maxBatchMessages ?? 1_000),
      forwardConnections: positiveInt('forwardConnections', opts.forwardConnections ?? 4),
      logger: opts.logger,
    }
    const seen = new Set<NodeId>()
    for (const peer of opts.peers) {
      if (seen.has(peer.id)) throw new Error(`transport peer ${peer.id} is listed twice`)
      seen.add(peer.id)
    }
    this.setPeers(opts.peers)
  }

  setPeers(peers: readonly PeerAddress[]): void {
    if (this.closed) return
    const wanted = new Map(peers.filter((p) => p.id !== this.self).map((p) => [p.id, p]))
    for (const [id, link] of this.links) {
      const next = wanted.get(id)
      if (next !== undefined && originOf(next) === link.origin) continue
      // Gone, or moved to another address: what was queued for the old one is
      // dropped; what is on the wire still arrives.
      this.links.delete(id)
      this.depart(id, link)
      const sender = this.snapshotSenders.get(id)
      this.snapshotSenders.delete(id)
      void sender?.close()
    }
    for (const [id, peer] of wanted) {
      if (this.links.has(id)) continue
      this.links.set(id, new PeerLink({ ...this.shared, peer }))
      this.snapshotSenders.set(
        id,
        new SnapshotSender({
          origin: originOf(peer),
          headers: { [SECRET_HEADER]: this.secret, [FROM_HEADER]: this.self },
          chunkBytes: this.chunkBytes,
          // A chunk is one round trip plus writing it: the peer timeout with room for a large chunk.
          timeoutMs: this.shared.timeoutMs * 10,
        }),
      )
    }
  }

  sendSnapshot(message: InstallSnapshot): Promise<void> {
    if (this.closed) return Promise.reject(new RateLimiterError('SHUTTING_DOWN'))
    const sender = this.snapshotSenders.get(message.to)
    if (sender === undefined) return Promise.reject(new RateLimiterError('NO_LEADER', `${message.to} is not a known peer`))
    return sender.send(message)
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return
    for (const m of messages) {
      const link = this.links.get(m.to)
      if (link === undefined) this.unroutableMessages++
      else link.send(m)
    }
  }

  forward(to: NodeId, inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    if (this.closed) return Promise.reject(new RateLimiterError('SHUTTING_DOWN'))
    const link = this.links.get(to)
    if (link === undefined) return Promise.reject(new RateLimiterError('NO_LEADER', `${to} ${UNKNOWN_PEER}`, { neverSent: true }))
    return link.forward(inputs)
  }

  /** The answer to forwards `to` sent in a stream frame; it travels back in a frame of this node's stream to `to`. */
  answerForward(to: NodeId, id: number, outcomes: readonly ForwardOutcome[]): void {
    if (this.closed) return
    const link = this.links.get(to) ?? this.departedLink(to)
    if (link === undefined) this.unroutableMessages++
    else link.answer(id, outcomes)
  }

  /** Answers that arrived in `from`'s stream frames, for forwards this node sent it. */
  receiveForwardAnswers(from: NodeId, answers: readonly StreamAnswer[]): void {
    this.links.get(from)?.receiveAnswers(answers)
  }

  /** `link`'s member left: our forwards waiting on it fail now; the link retires itself within one forward deadline. */
  private depart(id: NodeId, link: PeerLink): void {
    void this.departed.get(id)?.retire()
    // Links that retired since the last departure are forgotten here, so members removed over a long life do not pile up.
    for (const [other, l] of this.departed) if (l.isClosed) this.departed.delete(other)
    link.leave(this.shared.forwardTimeoutMs)
    this.departed.set(id, link)
  }

  /** The link of a member that left, while it still takes answers. */
  private departedLink(id: NodeId): PeerLink | undefined {
    const link = this.departed.get(id)
    return link?.isClosed === true ? undefined : link
  }

  stats(): TransportStats {
    const peers: Record<NodeId, PeerLinkStats> = {}
    for (const [id, link] of this.links) peers[id] = link.stats()
    return { peers, unroutableMessages: this.unroutableMessages }
  }

  /** Drops queued messages and destroys the pools; requests in flight fail. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const departed = [...this.departed.values()]
    this.departed.clear()
    await Promise.all([
      ...[...this.links.values(), ...departed].map((link) => link.close()),
      ...[...this.snapshotSenders.values()].map((s) => s.close()),
    ])
  }
}
