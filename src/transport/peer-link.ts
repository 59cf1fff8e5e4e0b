// Everything this node keeps for talking to one peer: its outgoing Raft
// message queue, the undici pools, and whether it answered lately.
import { Pool } from 'undici'
import { RateLimiterError, type ErrorCode } from '../errors.js'
import type { Message, NodeId } from '../raft/types.js'
import type { IncrementInput } from '../service.js'
import { decodeErrorCode, decodeForwardResponse, encodeForwardRequest, MAX_FORWARD_BATCH } from './forward-codec.js'
import { HeldReplies, type HeldRepliesStats } from './held-replies.js'
import { decodeMessageBatch, encodeMessageBatch, MESSAGE_BATCH_CONTENT_TYPE } from './message-codec.js'
import { FROM_HEADER, RAFT_FORWARD_PATH, RAFT_MESSAGES_PATH, REPLIES_HEADER, SECRET_HEADER } from './peer-protocol.js'
import { Outbox, type OutboxStats } from './outbox.js'
import type { ForwardOutcome, PeerAddress } from './port.js'

/** The subset of a pino / fastify logger the transport uses. */
export interface TransportLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface PeerLinkOptions {
  readonly self: NodeId
  readonly peer: PeerAddress
  readonly secret: string
  readonly timeoutMs: number
  readonly forwardTimeoutMs: number
  readonly maxQueuedMessages: number
  readonly maxInFlightBatches: number
  readonly maxBatchMessages: number
  readonly forwardConnections: number
  readonly logger: TransportLogger | undefined
  /** Messages the peer sent back in the response to one of our batches. */
  readonly receive: (messages: Message[]) => void
}

export interface PeerLinkStats extends OutboxStats {
  /** false from the first failed batch until one gets through again. */
  readonly reachable: boolean
  /** Our messages that rode back in responses to the peer's requests. */
  readonly replies: HeldRepliesStats
}

export function originOf({ host, port }: PeerAddress): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return `http://${bracketed}:${port}`
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${code}: ${err.message}` : `${err.name}: ${err.message}`
  }
  return String(err)
}

/**
 * NO_LEADER only when the request provably never reached the peer (no
 * connection was made): the caller may then send it elsewhere. Anything else
 * (a timeout, a reset socket mid-request) may have been applied by the leader:
 * NO_QUORUM, outcome unknown, never retried blindly.
 */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])

function unreachableCode(err: unknown): ErrorCode {
  const { code } = (err ?? {}) as { code?: unknown }
  return typeof code === 'string' && NOT_CONNECTED.has(code) ? 'NO_LEADER' : 'NO_QUORUM'
}

export class PeerLink {
  private readonly outbox: Outbox<Message>
  private readonly replies: HeldReplies<Message>
  // Two pools so forwarded increments, which wait for a commit on the leader,
  // can never hold the connection that must carry the replies that commit them.
  private readonly raftPool: Pool
  private readonly forwardPool: Pool
  private readonly messageHeaders: Record<string, string>
  private readonly forwardHeaders: Record<string, string>
  private reachable = true
  private closed = false
  /** Where this link sends (a member that moved gets a new link). */
  readonly origin: string

  constructor(private readonly opts: PeerLinkOptions) {
    const origin = originOf(opts.peer)
    this.origin = origin
    // One connection (pipelined when more than one batch may be in flight): batches reach the peer in the order they were queued.
    this.raftPool = new Pool(origin, {
      connections: 1,
      pipelining: opts.maxInFlightBatches,
      connect: { timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    })
    this.forwardPool = new Pool(origin, {
      connections: opts.forwardConnections,
      connect: { timeout: opts.forwardTimeoutMs },
      headersTimeout: opts.forwardTimeoutMs,
      bodyTimeout: opts.forwardTimeoutMs,
    })
    const auth = { [SECRET_HEADER]: opts.secret, [FROM_HEADER]: opts.self }
    // REPLIES_HEADER: the peer may answer with its messages to us in the response body.
    this.messageHeaders = { ...auth, 'content-type': MESSAGE_BATCH_CONTENT_TYPE, [REPLIES_HEADER]: '1' }
    this.forwardHeaders = { ...auth, 'content-type': 'application/json' }
    this.outbox = new Outbox({
      maxQueued: opts.maxQueuedMessages,
      maxInFlight: opts.maxInFlightBatches,
      maxBatch: opts.maxBatchMessages,
      post: (batch) => this.postBatch(batch),
    })
    this.replies = new HeldReplies<Message>()
  }

  send(message: Message): void {
    if (!this.replies.offer(message)) this.outbox.enqueue(message)
  }

  /**
   * A batch from this peer arrived: keep its request open so our next
   * messages to the peer ride back in the response. Resolves with them, or
   * with nothing once released (releaseIdle, releaseOlderThan, close).
   */
  holdReply(): Promise<Message[]> {
    if (this.closed) return Promise.resolve([])
    return this.replies.hold()
  }

  /** This node has nothing more to say for now: answer held requests that carry nothing. */
  releaseIdle(): void {
    this.replies.releaseIdle()
  }

  releaseOlderThan(ms: number): void {
    this.replies.releaseOlderThan(ms)
  }

  async forward(inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    if (inputs.length <= MAX_FORWARD_BATCH) return this.forwardChunk(inputs)
    const chunks: Promise<ForwardOutcome[]>[] = []
    for (let i = 0; i < inputs.length; i += MAX_FORWARD_BATCH) chunks.push(this.forwardChunk(inputs.slice(i, i + MAX_FORWARD_BATCH)))
    return (await Promise.all(chunks)).flat()
  }

  stats(): PeerLinkStats {
    return { ...this.outbox.stats(), reachable: this.reachable, replies: this.replies.stats() }
  }

  async close(): Promise<void> {
    this.closed = true
    this.replies.releaseIdle()
    this.outbox.close()
    await Promise.all([this.raftPool.destroy(), this.forwardPool.destroy()])
  }

  /**
   * The peer left the membership: send nothing new, but let requests already
   * on the wire finish (a forwarded increment there has an answer coming).
   */
  async retire(): Promise<void> {
    this.closed = true
    this.replies.releaseIdle()
    this.outbox.close()
    await Promise.all([this.raftPool.close(), this.forwardPool.close()])
  }

  private async postBatch(batch: Message[]): Promise<boolean> {
    try {
      const { statusCode, body } = await this.raftPool.request({
        method: 'POST',
        path: RAFT_MESSAGES_PATH,
        headers: this.messageHeaders,
        body: encodeMessageBatch(batch),
        // Lets undici pipeline batches on the one connection. After a dropped
        // connection it may re-send a later batch; Raft tolerates duplicates.
        idempotent: true,
        blocking: false,
      })
      if (statusCode === 200) {
        const replies = decodeMessageBatch(await body.text())
        if (replies.length > 0 && !this.closed) this.opts.receive(replies)
      } else {
        await body.dump() // a body left unread would pin the connection
      }
      const ok = statusCode >= 200 && statusCode < 300
      this.noteHealth(ok, ok ? '' : `HTTP ${statusCode}`)
      return ok
    } catch (err) {
      this.noteHealth(false, describe(err))
      return false
    }
  }

  private async forwardChunk(inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    if (this.closed) throw new RateLimiterError('SHUTTING_DOWN')
    if (inputs.length === 0) return []
    const peer = this.opts.peer.id
    let statusCode: number
    let text: string
    try {
      const res = await this.forwardPool.request({
        method: 'POST',
        path: RAFT_FORWARD_PATH,
        headers: this.forwardHeaders,
        body: encodeForwardRequest(inputs),
        // One deadline over queueing, connecting, waiting and reading.
        signal: AbortSignal.timeout(this.opts.forwardTimeoutMs),
      })
      statusCode = res.statusCode
      text = await res.body.text()
    } catch (err) {
      const code = unreachableCode(err)
      throw new RateLimiterError(code, `forward to ${peer} failed: ${describe(err)}`, { neverSent: code === 'NO_LEADER' })
    }
    if (statusCode === 200) return decodeForwardResponse(text, inputs.length)
    const code = decodeErrorCode(text)
    // 503 codes are normal cluster events; a leader shutting down means no leader for us.
    if (statusCode === 503 && code !== undefined) throw new RateLimiterError(code === 'SHUTTING_DOWN' ? 'NO_LEADER' : code, `from ${peer}`)
    this.opts.logger?.warn({ peer, statusCode, code }, 'peer refused a forwarded batch')
    throw new RateLimiterError('INTERNAL', `${peer} answered forward with HTTP ${statusCode} ${code ?? ''}`.trimEnd())
  }

  /** Logs only transitions, so a dead peer costs one line, not one per batch. */
  private noteHealth(ok: boolean, reason: string): void {
    if (ok === this.reachable || this.closed) return
    this.reachable = ok
    const peer = this.opts.peer.id
    if (ok) this.opts.logger?.info({ peer }, 'peer reachable again')
    else this.opts.logger?.warn({ peer, reason }, 'peer unreachable; Raft messages to it are dropped until it answers')
  }
}
