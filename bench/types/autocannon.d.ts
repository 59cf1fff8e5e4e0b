// The small part of autocannon's programmatic API the bench uses (the package
// ships no types). Shapes follow autocannon 8's lib/run.js and lib/init.js.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface RequestParams {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }

  export interface AutocannonRequest extends RequestParams {
    /** Called before every request of this entry; returns the request to send. */
    setupRequest?: (req: RequestParams, context: Record<string, unknown>) => RequestParams
  }

  export interface Options {
    /** One target, or several: connection i goes to url[i % url.length]. */
    url: string | string[]
    connections?: number
    /** Seconds. */
    duration?: number
    /** Stop after this many requests instead of after `duration`. */
    amount?: number
    pipelining?: number
    /** Seconds before a request counts as a timeout. */
    timeout?: number
    method?: string
    requests?: AutocannonRequest[]
    excludeErrorStats?: boolean
  }

  export interface Result {
    errors: number
    timeouts: number
    non2xx: number
    resets: number
    /** Seconds, rounded to 10 ms. */
    duration: number
    statusCodeStats: Record<string, { count: number }>
    latency: { p50: number; p99: number; average: number }
    requests: { average: number; total: number }
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void
  }

  function autocannon(opts: Options): Instance
  export default autocannon
}
