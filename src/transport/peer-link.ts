// Everything this node keeps for talking to one peer: the Raft messages
// queued this turn, the stream they leave on, the pool for forwarded
// increments, and whether the peer answered lately.
import { Pool } from 'undici'
import { RateLimiterError, type ErrorCode } from '../errors.js'
import type { Message, NodeId } from '../raft/types.js'
import type { IncrementInput } from '../service.js'
import { decodeErrorCode, decodeForwardResponse, encodeForwardRequest, MAX_FORWARD_BATCH } from './forward-codec.js'
import { describeError } from './describe-error.js'
import { encodeFrame } from './frame-codec.js'
import { encodeMessageBatch } from './message-codec.js'
import { MessageStream, type MessageStreamStats } from './message-stream.js'
import { FROM_HEADER, KEEPALIVE_HEADER, RAFT_FORWARD_PATH, SECRET_HEADER, STREAM_CONTENT_TYPE } from './peer-protocol.js'
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
  /** Bytes of message frames buffered for the peer; beyond it new batches are dropped. */
  readonly maxBufferedBytes: number
  readonly maxBatchMessages: number
  readonly forwardConnections: number
  readonly logger: TransportLogger | undefined
}

export interface PeerLinkStats extends MessageStreamStats {
  /** false from the first failed stream until one opens again. */
  readonly reachable: boolean
  /** Messages waiting for the end of this turn, when they leave as one batch. */
  readonly queued: number
}

export function originOf({ host, port }: PeerAddress): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return `http://${bracketed}:${port}`
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
  private queue: Message[] = []
  private flushScheduled = false
  private readonly stream: MessageStream
  // Two pools so forwarded increments, which wait for a commit on the leader,
  // can never queue behind the message stream that must carry what commits them.
  private readonly raftPool: Pool
  private readonly forwardPool: Pool
  private readonly forwardHeaders: Record<string, string>
  private reachable = true
  private closed = false
  /** Where this link sends (a member that moved gets a new link). */
  readonly origin: string

  constructor(private readonly opts: PeerLinkOptions) {
    const origin = originOf(opts.peer)
    this.origin = origin
    // The receiver writes a keepalive a few times per timeout, so a silent peer fails the stream at the timeout.
    const keepaliveMs = Math.max(1, Math.floor(opts.timeoutMs / 4))
    this.raftPool = new Pool(origin, {
      connections: 1,
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
    this.forwardHeaders = { ...auth, 'content-type': 'application/json' }
    this.stream = new MessageStream({
      pool: this.raftPool,
      headers: { ...auth, 'content-type': STREAM_CONTENT_TYPE, [KEEPALIVE_HEADER]: String(keepaliveMs) },
      maxBufferedBytes: opts.maxBufferedBytes,
      // Peers send every tick; a refused connection is retried a few times per timeout, not per tick.
      retryMs: keepaliveMs,
      onHealth: (ok, reason) => this.noteHealth(ok, reason),
    })
  }

  send(message: Message): void {
    if (this.closed) return
    this.queue.push(message)
    // At the end of this turn, so every send() of one burst shares a frame.
    if (!this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(this.flush)
    }
  }

  async forward(inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    if (inputs.length <= MAX_FORWARD_BATCH) return this.forwardChunk(inputs)
    const chunks: Promise<ForwardOutcome[]>[] = []
    for (let i = 0; i < inputs.length; i += MAX_FORWARD_BATCH) chunks.push(this.forwardChunk(inputs.slice(i, i + MAX_FORWARD_BATCH)))
    return (await Promise.all(chunks)).flat()
  }

  stats(): PeerLinkStats {
    return { ...this.stream.stats(), reachable: this.reachable, queued: this.queue.length }
  }

  /** Drops what is queued and the stream; requests in flight fail. */
  async close(): Promise<void> {
    this.closed = true
    this.queue = []
    this.stream.close(true)
    await Promise.all([this.raftPool.destroy(), this.forwardPool.destroy()])
  }

  /**
   * The peer left the membership: send nothing new, but let what is on the
   * wire finish (a forwarded increment there has an answer coming).
   */
  async retire(): Promise<void> {
    this.closed = true
    this.queue = []
    this.stream.close(false)
    await Promise.all([this.raftPool.close(), this.forwardPool.close()])
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const queue = this.queue
    this.queue = []
    for (let i = 0; i < queue.length; i += this.opts.maxBatchMessages) {
      const batch = queue.length <= this.opts.maxBatchMessages ? queue : queue.slice(i, i + this.opts.maxBatchMessages)
      this.stream.write(encodeFrame(encodeMessageBatch(batch)), batch.length)
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
      throw new RateLimiterError(code, `forward to ${peer} failed: ${describeError(err)}`, { neverSent: code === 'NO_LEADER' })
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
