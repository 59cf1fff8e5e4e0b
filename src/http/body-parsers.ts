// No public route reads a request body. JSON bodies are still checked so a
// malformed one gets 400 INVALID_BODY; an empty one is fine (Go's
// http.Post(url, "application/json", nil) sends exactly that). Other media
// types are accepted unread so `curl -d ...` keeps working; Node discards them.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { RateLimiterError } from '../errors.js'

function parseJsonOrEmpty(_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void {
  const text = typeof body === 'string' ? body : body.toString('utf8')
  if (text.trim() === '') return done(null, undefined)
  try {
    done(null, JSON.parse(text))
  } catch {
    done(new RateLimiterError('INVALID_BODY'))
  }
}

function ignoreBody(_request: FastifyRequest, _payload: unknown, done: (err: Error | null, body?: unknown) => void): void {
  done(null, undefined)
}

export function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonOrEmpty)
  app.addContentTypeParser('*', ignoreBody)
}
