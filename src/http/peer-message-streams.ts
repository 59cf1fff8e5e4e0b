// The peer app's message-stream route (DESIGN §6): each peer keeps one request
// open and streams frames of Raft messages in its body (frame-codec.ts); the
// response carries only keepalive frames, so the sender notices silence.
import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Message } from '../raft/types.js'
import { EMPTY_FRAME, FrameReader } from '../transport/frame-codec.js'
import { decodePeerFrame, type StreamAnswer, type StreamForward } from '../transport/message-codec.js'
import { FORWARDS_HEADER, FROM_HEADER, KEEPALIVE_HEADER, RAFT_STREAM_PATH, STREAM_CONTENT_TYPE } from '../transport/peer-protocol.js'

export interface MessageStreamRouteOptions {
  /** Largest frame accepted; a larger one breaks the stream before it is read. */
  readonly frameLimit: number
  /** Called with every valid batch; must not block. */
  readonly onMessages: (msgs: Message[]) => void
  /**
   * Forwarded increments that came in frames (validated); must not block.
   * Without it the route does not offer to take them (FORWARDS_HEADER), and
   * peers send them as requests.
   */
  readonly onForwards?: (from: string, forwards: readonly StreamForward[]) => void
  /** Answers, in frames, to forwards this node sent the peer `from`. */
  readonly onAnswers?: (from: string, answers: readonly StreamAnswer[]) => void
  readonly onStreamError?: (from: string, err: unknown) => void
}

/** The sender's keepalive interval, kept within sane bounds whatever it asked for. */
function keepaliveOf(header: string | string[] | undefined): number {
  const ms = Number(header)
  return Number.isFinite(ms) ? Math.min(Math.max(Math.floor(ms), 1), 60_000) : 250
}

/** Adds POST RAFT_STREAM_PATH to `app` (authentication is the app's onRequest hook). */
export function registerMessageStreams(app: FastifyInstance, opts: MessageStreamRouteOptions): void {
  // Raft messages: each peer keeps one request open and streams frames in its
  // body. Frames are handed over as they arrive, in the order sent; a frame
  // that is too large or does not decode breaks the stream (its sender
  // reopens one), since nothing after it can be trusted.
  const streams = new Set<ServerResponse>()
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    // The body is not read here: the handler consumes it as it arrives.
    scope.addContentTypeParser(STREAM_CONTENT_TYPE, (_request, payload, done) => done(null, payload))
    scope.post(RAFT_STREAM_PATH, (request, reply) => {
      const from = String(request.headers[FROM_HEADER] ?? 'unknown')
      const keepaliveMs = keepaliveOf(request.headers[KEEPALIVE_HEADER])
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, opts.onForwards === undefined ? { 'content-type': STREAM_CONTENT_TYPE } : { 'content-type': STREAM_CONTENT_TYPE, [FORWARDS_HEADER]: '1' })
      res.flushHeaders()
      streams.add(res)
      const keepalive = setInterval(() => {
        if (!res.writableEnded && !res.destroyed) res.write(EMPTY_FRAME)
      }, keepaliveMs)
      keepalive.unref()
      // A write racing the peer's disconnect fails here, not as an uncaught 'error' event.
      res.on('error', () => {})
      const reader = new FrameReader(opts.frameLimit)
      const req = request.raw
      req.on('data', (chunk: Buffer) => {
        try {
          for (const payload of reader.push(chunk)) {
            const frame = decodePeerFrame(payload)
            if (frame.messages.length > 0) opts.onMessages(frame.messages)
            if (frame.forwards.length > 0) opts.onForwards?.(from, frame.forwards)
            if (frame.answers.length > 0) opts.onAnswers?.(from, frame.answers)
          }
        } catch (err) {
          opts.onStreamError?.(from, err)
          req.removeAllListeners('data')
          res.destroy()
        }
      })
      req.on('end', () => {
        clearInterval(keepalive)
        if (!res.destroyed) res.end()
      })
      res.on('close', () => {
        clearInterval(keepalive)
        streams.delete(res)
      })
    })
  })
  // Open streams never end on their own: close them, or app.close() would wait for them.
  app.addHook('preClose', (done) => {
    for (const res of streams) res.destroy()
    done()
  })
}
