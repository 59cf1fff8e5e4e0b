// Everything this node keeps for talking to one peer: the Raft messages
// queued this turn, the stream they leave on, the pool for forwarded
// increments, and whether the peer answered lately.
import { Pool } from 'undici'
import { inChunks } from '../chunks.js'
import { RateLimiterError, type ErrorCode } from '../errors.js'
import type { Message, NodeId } from '../raft/types.js'
import type { IncrementInput } from '../service.js'
import { decodeErrorCode, decodeForwardResponse, encodeForwardRequest, forwardOutcomesOf, MAX_FORWARD_BATCH } from './forward-codec.js'
import { describeError } from './describe-error.js'
import { encodeFrame } from './frame-codec.js'
import { encodePeerFrame, type StreamAnswer, type StreamForward } from './message-codec.js'
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

/** A forward sent in a stream frame, waiting for the answer in one of the peer's frames. */
interface PendingForward {
  readonly inputs: readonly IncrementInput[]
  readonly resolve: (outcomes: ForwardOutcome[]) => void
  readonly reject: (err: unknown) => void
  readonly timer: NodeJS.Timeout
}

const NONE: readonly never[] = []

export class PeerLink {
  private queue: Message[] = []
  /** Forwards and answers to forwards that leave with this turn's frame. */
  private forwardsOut: StreamForward[] = []
  private answersOut: StreamAnswer[] = []
  private readonly pendingForwards = new Map<number, PendingForward>()
  private nextForwardId = 0
  private flushScheduled = false
  private readonly stream: MessageStream
  // Two pools so forwarded increments, which wait for a commit on the leader,
  // can never queue behind the message stream that must carry what commits them.
  private readonly raftPool: Pool
  private readonly forwardPool: Pool
  private readonly forwardHeaders: Record<string, string>
  private reachable = true
  private closed = false
  /** The peer left the membership (leave()): only answers owed to it are still sent, until retire(). */
  private departed = false
  private retireTimer: NodeJS.Timeout | null = null
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
      onHealth: (ok, reason) => {
        // Forwards written to a stream that broke may or may not have been applied.
        if (!ok) this.rejectStreamForwards(new RateLimiterError('NO_QUORUM', `the stream to ${opts.peer.id} broke: ${reason}`))
        // A member that left and whose stream broke has most likely stopped: no retries for answers it may never take.
        if (!ok && this.departed) void this.retire()
        this.noteHealth(ok, reason)
      },
    })
  }

  send(message: Message): void {
    if (this.closed || this.departed) return
    this.queue.push(message)
    this.scheduleFlush()
  }

  /** The answer to a forward this peer sent in a frame; it leaves with this turn's frame to the peer. */
  answer(id: number, outcomes: readonly ForwardOutcome[]): void {
    if (this.closed) return
    this.answersOut.push({ id, outcomes })
    this.scheduleFlush()
  }

  /** Answers from the peer to forwards this link sent in frames. */
  receiveAnswers(answers: readonly StreamAnswer[]): void {
    for (const { id, outcomes } of answers) {
      const p = this.pendingForwards.get(id)
      if (p === undefined) continue // timed out already
      this.pendingForwards.delete(id)
      clearTimeout(p.timer)
      try {
        p.resolve(forwardOutcomesOf(outcomes, p.inputs.length))
      } catch (err) {
        p.reject(err)
      }
    }
  }

  /**
   * Forwarded increments ride the message stream when the peer takes them
   * there: no request and response of their own, and the answer comes back in
   * a frame the peer sends anyway. Otherwise (no stream open, an older peer,
   * a huge batch) they go as a request.
   */
  async forward(inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    if (this.closed || this.departed) throw new RateLimiterError('SHUTTING_DOWN')
    if (inputs.length > 0 && inputs.length <= MAX_FORWARD_BATCH && this.stream.acceptsForwards()) return this.streamForward(inputs)
    if (inputs.length <= MAX_FORWARD_BATCH) return this.forwardChunk(inputs)
    return (await Promise.all(inChunks(inputs, MAX_FORWARD_BATCH).map((chunk) => this.forwardChunk(chunk)))).flat()
  }

  stats(): PeerLinkStats {
    return { ...this.stream.stats(), reachable: this.reachable, queued: this.queue.length }
  }

  /** Retired or closed: nothing more leaves on this link. */
  get isClosed(): boolean {
    return this.closed
  }

  /** Drops what is queued and the stream; requests in flight fail. */
  async close(): Promise<void> {
    this.closed = true
    this.clearRetireTimer()
    this.queue = []
    this.rejectStreamForwards(new RateLimiterError('NO_QUORUM', 'the link closed before the answer came'))
    this.stream.close(true)
    await Promise.all([this.raftPool.destroy(), this.forwardPool.destroy()])
  }

  /**
   * The peer left the membership: forwards waiting on it fail now and no
   * Raft message is queued any more, but answers owed to it still go out
   * until retire(): after `graceMs`, or at once if the stream breaks (the
   * removed node most likely stopped).
   */
  leave(graceMs: number): void {
    if (this.departed || this.closed) return
    this.stopSending()
    this.retireTimer = setTimeout(() => void this.retire(), graceMs)
    this.retireTimer.unref()
  }

  /**
   * Send nothing new, but let what is on the wire finish (a forwarded
   * increment there has an answer coming).
   */
  async retire(): Promise<void> {
    if (this.closed) return // retired or closed already: undici refuses to close a destroyed pool
    this.clearRetireTimer()
    this.stopSending()
    this.closed = true
    this.stream.close(false)
    await Promise.all([this.raftPool.close(), this.forwardPool.close()])
  }

  /** No Raft message or forward to the peer any more; the forwards waiting on it fail. */
  private stopSending(): void {
    this.departed = true
    this.queue = []
    this.rejectStreamForwards(new RateLimiterError('NO_QUORUM', 'the peer left before the answer came'))
  }

  private clearRetireTimer(): void {
    if (this.retireTimer !== null) clearTimeout(this.retireTimer)
    this.retireTimer = null
  }

  /** At the end of this turn, so every send() of one burst shares a frame. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(this.flush)
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const queue = this.queue
    const forwards = this.forwardsOut
    const answers = this.answersOut
    this.queue = []
    this.forwardsOut = []
    this.answersOut = []
    // At least one frame (an empty queue is one empty piece); forwards and answers ride the first.
    inChunks(queue, this.opts.maxBatchMessages).forEach((messages, i) => {
      const frame = i === 0 ? { messages, forwards, answers } : { messages, forwards: NONE, answers: NONE }
      const written = this.stream.write(encodeFrame(encodePeerFrame(frame)), messages.length)
      if (!written && i === 0) this.sendByRequest(forwards)
    })
  }

  private streamForward(inputs: readonly IncrementInput[]): Promise<ForwardOutcome[]> {
    return new Promise<ForwardOutcome[]>((resolve, reject) => {
      const id = this.nextForwardId++
      // One timer per forwarded batch (not per increment): the same deadline a request has.
      const timer = setTimeout(() => {
        if (!this.pendingForwards.delete(id)) return
        reject(new RateLimiterError('NO_QUORUM', `no answer from ${this.opts.peer.id} within ${this.opts.forwardTimeoutMs} ms`))
      }, this.opts.forwardTimeoutMs)
      timer.unref()
      this.pendingForwards.set(id, { inputs, resolve, reject, timer })
      this.forwardsOut.push({ id, inputs })
      this.scheduleFlush()
    })
  }

  /** Forwards whose frame was dropped never left: they go as a request instead. */
  private sendByRequest(forwards: readonly StreamForward[]): void {
    for (const { id } of forwards) {
      const p = this.pendingForwards.get(id)
      if (p === undefined) continue
      this.pendingForwards.delete(id)
      clearTimeout(p.timer)
      this.forwardChunk(p.inputs).then(p.resolve, p.reject)
    }
  }

  private rejectStreamForwards(err: RateLimiterError): void {
    for (const p of this.pendingForwards.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    this.pendingForwards.clear()
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
