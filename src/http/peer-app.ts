// The peer-facing fastify app, served on RAFT_PORT only (DESIGN §6). Built
// here, listened on by the node, tested with inject().
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { isRateLimiterError } from '../errors.js'
import type { Message } from '../raft/types.js'
import type { IncrementInput } from '../service.js'
import { clusterSecretMatcher } from '../transport/cluster-secret.js'
import { registerMessageStreams } from './peer-message-streams.js'
import { decodeForwardRequest, encodeForwardResponse } from '../transport/forward-codec.js'
import type { StreamAnswer, StreamForward } from '../transport/message-codec.js'
import {
  DEFAULT_PEER_BODY_LIMIT,
  FROM_HEADER,
  RAFT_FORWARD_PATH,
  RAFT_SNAPSHOT_PATH,
  SECRET_HEADER,
  SNAPSHOT_CONTENT_TYPE,
} from '../transport/peer-protocol.js'
import { parseChunkHeader, SnapshotAssembler } from '../transport/snapshot-chunks.js'
import type { ForwardOutcome } from '../transport/port.js'

export interface PeerAppOptions {
  readonly secret: string
  /** Called with every valid batch; must not block. */
  onMessages(msgs: Message[]): void
  onForward(inputs: IncrementInput[]): Promise<ForwardOutcome[]>
  /** Forwarded increments that came in a message stream's frames (see MessageStreamRouteOptions). */
  readonly onStreamForwards?: (from: string, forwards: readonly StreamForward[]) => void
  /** Answers, in a message stream's frames, to forwards this node sent. */
  readonly onStreamAnswers?: (from: string, answers: readonly StreamAnswer[]) => void
  readonly logger?: boolean | object
  /** Where a broken message stream is reported (the peer app's own logger is off by default). */
  readonly onStreamError?: (from: string, err: unknown) => void
  readonly bodyLimit?: number
  /** Largest snapshot image accepted from a leader. */
  readonly maxSnapshotBytes?: number
}

/** Default cap on a received snapshot image: just under V8's longest string (the image is decoded as one). */
export const DEFAULT_MAX_SNAPSHOT_BYTES = 500 * 1024 * 1024

export function buildPeerApp(opts: PeerAppOptions): FastifyInstance {
  const isClusterSecret = clusterSecretMatcher(opts.secret)
  const app = Fastify({
    logger: (opts.logger ?? false) as NonNullable<FastifyServerOptions['logger']>,
    bodyLimit: opts.bodyLimit ?? DEFAULT_PEER_BODY_LIMIT,
    // Peers send several requests per heartbeat interval: per-request log lines would drown the rest.
    logController: new LogController({ disableRequestLogging: true }),
  })

  // onRequest runs before the body is read, so an unauthenticated request costs no parsing and reaches no handler.
  app.addHook('onRequest', (request, reply, done) => {
    if (isClusterSecret(request.headers[SECRET_HEADER])) {
      done()
      return
    }
    void reply.code(401).send({ error: 'UNAUTHORIZED' })
  })

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'NOT_FOUND' }))

  app.setErrorHandler((error, request, reply) => {
    if (isRateLimiterError(error)) return reply.code(error.status).send({ error: error.code, detail: error.detail })
    const status = (error as { statusCode?: unknown }).statusCode
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // fastify's own refusals: bad JSON, wrong content type, body over the limit.
      return reply.code(status).send({ error: 'INVALID_PEER_MESSAGE', detail: error instanceof Error ? error.message : undefined })
    }
    request.log.error({ err: error }, 'peer request failed')
    return reply.code(500).send({ error: 'INTERNAL' })
  })

  registerMessageStreams(app, {
    frameLimit: opts.bodyLimit ?? DEFAULT_PEER_BODY_LIMIT,
    onMessages: opts.onMessages,
    ...(opts.onStreamForwards === undefined ? {} : { onForwards: opts.onStreamForwards }),
    ...(opts.onStreamAnswers === undefined ? {} : { onAnswers: opts.onStreamAnswers }),
    ...(opts.onStreamError === undefined ? {} : { onStreamError: opts.onStreamError }),
  })

  // InstallSnapshot chunks: the whole message reaches the core only once complete.
  const snapshots = new SnapshotAssembler(opts.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES)
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(SNAPSHOT_CONTENT_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
    scope.post(RAFT_SNAPSHOT_PATH, (request, reply) => {
      const head = parseChunkHeader(request.headers[FROM_HEADER], request.headers)
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const complete = snapshots.accept(head, body)
      if (complete !== null) opts.onMessages([complete])
      void reply.code(204).send()
    })
  })

  app.post(RAFT_FORWARD_PATH, async (request, reply) => {
    const inputs = decodeForwardRequest(request.body)
    const outcomes = await opts.onForward(inputs)
    return reply.code(200).type('application/json').send(encodeForwardResponse(outcomes))
  })

  return app
}
