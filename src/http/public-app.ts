// The public HTTP API on SERVER_PORT, built but never started here (main.ts
// listens; tests use inject()).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { FailMode } from '../config.js'
import type { RateLimiterService } from '../service.js'
import { installBodyParsers } from './body-parsers.js'
import { handleFrameworkError, installErrorHandling } from './error-handler.js'
import { registerAdminRoutes } from './admin-routes.js'
import { createMetrics, type Metrics } from './metrics.js'
import { registerOpsRoutes } from './ops-routes.js'
import { registerRateRoutes } from './rate-routes.js'
import { decorateRequestOutcome } from './request-outcome.js'

export interface PublicAppOptions {
  readonly failMode: FailMode
  /** fastify logger options, `true`/`false`, or a ready pino-compatible logger instance. */
  readonly logger?: boolean | object
  /** Defaults to a fresh registry for this app. */
  readonly metrics?: Metrics
  /** Enables the admin routes (they require this secret in x-cluster-secret). */
  readonly clusterSecret?: string
}

// No public route reads a body; this only bounds JSON that is checked for well-formedness.
const BODY_LIMIT_BYTES = 64 * 1024

export function buildPublicApp(service: RateLimiterService, opts: PublicAppOptions): FastifyInstance {
  const app = Fastify({
    ...loggerOptions(opts.logger),
    bodyLimit: BODY_LIMIT_BYTES,
    // Two log lines per rate request would cost more than the request; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // fastify's default builds a pino child per request only to bind reqId;
    // with request logging off, that id appears in nothing but the rare error
    // line, which now carries it itself (error-handler.ts).
    childLoggerFactory: (logger) => logger,
    frameworkErrors: handleFrameworkError,
  }) as unknown as FastifyInstance
  const metrics = opts.metrics ?? createMetrics(service)

  decorateRequestOutcome(app)
  installBodyParsers(app)
  installErrorHandling(app)
  app.addHook('onResponse', (request, reply, done) => {
    const outcome = request.rlOutcome !== '' ? request.rlOutcome : reply.statusCode < 400 ? 'ok' : String(reply.statusCode)
    metrics.recordRequest(request.routeOptions.url ?? 'unmatched', outcome, reply.elapsedTime / 1000)
    done()
  })

  registerRateRoutes(app, service, { failOpen: opts.failMode === 'open' })
  registerOpsRoutes(app, service, metrics)
  if (opts.clusterSecret !== undefined) registerAdminRoutes(app, service, opts.clusterSecret)
  return app
}

function loggerOptions(logger: boolean | object | undefined): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (logger === undefined) return {}
  if (typeof logger === 'object' && isLoggerInstance(logger)) return { loggerInstance: logger }
  return { logger: logger as NonNullable<FastifyServerOptions['logger']> }
}

// fastify 5 refuses a logger instance passed as `logger`; tell the two apart by shape.
function isLoggerInstance(value: object): value is FastifyBaseLogger {
  const v = value as Partial<Record<'child' | 'info' | 'error', unknown>>
  return typeof v.child === 'function' && typeof v.info === 'function' && typeof v.error === 'function'
}
