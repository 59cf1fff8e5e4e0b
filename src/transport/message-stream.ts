// The sending half of a peer link: one long-lived HTTP/1.1 POST to the peer's
// stream route whose body carries message batches as frames (frame-codec.ts).
// A batch then costs one chunk on an open connection instead of a request and
// its response: about a third of the sender's CPU (`npm run bench:peer-hop`).
// The peer answers over its own stream to us; the response body carries only
// keepalives, so a silent peer fails the stream at undici's body timeout.
//
// Raft tolerates lost messages, so no batch is resent: a batch written to a
// stream that then fails is gone, and while no stream is open (the peer is
// down, or we wait to retry) batches are dropped and counted. The stream
// itself is retried once `retryMs` after a failure even with nothing to send,
// so a link that Raft leaves idle (follower to follower between elections)
// still learns that its peer came back.
import { PassThrough } from 'node:stream'
import type { Pool } from 'undici'
import { describeError } from './describe-error.js'
import { EMPTY_FRAME } from './frame-codec.js'
import { FORWARDS_HEADER, RAFT_STREAM_PATH } from './peer-protocol.js'

export interface MessageStreamOptions {
  readonly pool: Pool
  readonly headers: Readonly<Record<string, string>>
  /** Written but not yet taken by the socket; a batch that would pass it is dropped (a slow or hung peer). */
  readonly maxBufferedBytes: number
  /** After a stream fails, how long until the next one opens (by itself if nothing is sent); batches meanwhile are dropped. */
  readonly retryMs: number
  /** Told of every opened stream (true) and failed one (false, with why). */
  readonly onHealth: (ok: boolean, reason: string) => void
}

export interface MessageStreamStats {
  /** Batches written to a stream (and their messages); a later failure may still lose them. */
  readonly sentBatches: number
  readonly sentMessages: number
  /** Messages dropped because no stream was open, or the stream's buffer was full. */
  readonly droppedMessages: number
  /** Streams opened so far: one, unless the peer went away. */
  readonly streamsOpened: number
  readonly bufferedBytes: number
  /** The open stream's receiver takes forwarded increments in frames. */
  readonly forwardsInFrames: boolean
}

export class MessageStream {
  private body: PassThrough | null = null
  /** The open stream's receiver said it takes forwarded increments in frames. */
  private forwardsAccepted = false
  /** Set from a failure until the next stream opens: meanwhile batches are dropped. */
  private retryTimer: NodeJS.Timeout | null = null
  private closed = false
  private sentBatches = 0
  private sentMessages = 0
  private droppedMessages = 0
  private streamsOpened = 0

  constructor(private readonly opts: MessageStreamOptions) {}

  /** Writes one frame holding `messages` messages, opening a stream first if none is open; false if it was dropped. */
  write(frame: Buffer, messages: number): boolean {
    if (this.closed) return false
    // undici destroys the body when the request fails, before we hear of it.
    if (this.body?.destroyed === true) this.fail(this.body, 'the stream was closed')
    const body = this.body ?? this.open()
    if (body === null || body.writableLength + frame.length > this.opts.maxBufferedBytes) {
      this.droppedMessages += messages
      return false
    }
    body.write(frame)
    this.sentBatches++
    this.sentMessages += messages
    return true
  }

  /** Whether a stream is open to a receiver that takes forwarded increments in frames. */
  acceptsForwards(): boolean {
    return this.forwardsAccepted && this.body !== null && !this.body.destroyed && !this.closed
  }

  stats(): MessageStreamStats {
    return {
      sentBatches: this.sentBatches,
      sentMessages: this.sentMessages,
      droppedMessages: this.droppedMessages,
      streamsOpened: this.streamsOpened,
      bufferedBytes: this.body?.writableLength ?? 0,
      forwardsInFrames: this.acceptsForwards(),
    }
  }

  /** Ends the stream after what was written; `abort` drops it on the spot instead. */
  close(abort: boolean): void {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    const body = this.body
    this.body = null
    if (abort) body?.destroy()
    else body?.end()
  }

  private open(): PassThrough | null {
    if (this.retryTimer !== null) return null
    const body = new PassThrough()
    // Its failures reach us through the request; an unheard 'error' event would crash the process.
    body.on('error', () => {})
    // undici sends the request head with the body's first chunk.
    body.write(EMPTY_FRAME)
    this.body = body
    this.streamsOpened++
    this.opts.pool.request({ method: 'POST', path: RAFT_STREAM_PATH, headers: this.opts.headers, body }).then(
      (res) => {
        if (res.statusCode !== 200) {
          void res.body.dump() // a body left unread would pin the connection
          this.fail(body, `HTTP ${res.statusCode}`)
          return
        }
        if (this.body === body) {
          this.forwardsAccepted = res.headers[FORWARDS_HEADER] === '1'
          this.opts.onHealth(true, '')
        }
        // Keepalives: read and forgotten; their absence is the body timeout.
        res.body.on('data', () => {})
        res.body.on('error', (err) => this.fail(body, describeError(err)))
        res.body.on('end', () => this.fail(body, 'the peer ended the stream'))
      },
      (err: unknown) => this.fail(body, describeError(err)),
    )
    return body
  }

  private fail(body: PassThrough, reason: string): void {
    body.destroy()
    if (this.body !== body) return // already replaced, or closed on purpose
    this.body = null
    this.forwardsAccepted = false
    this.opts.onHealth(false, reason)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (!this.closed && this.body === null) this.open()
    }, this.opts.retryMs)
    this.retryTimer.unref()
  }
}
