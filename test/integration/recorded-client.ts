// A client of the two rate routes that records every operation it makes, for
// the linearizability checker (src/check) at the end of a real-process test.
import type { Op } from '../../src/check/index.js'
import { getJson, type JsonReply } from './http-helpers.js'

export interface SendOptions {
  /** More query parameters, e.g. `&request_id=r1`. */
  readonly query?: string
  /** Default: getJson's. */
  readonly timeoutMs?: number
}

export class RecordedClient {
  readonly history: Op[] = []
  private nextId = 0

  /** `onAnswer` sees every reply, or null when none came (for tests that count status codes). */
  constructor(private readonly onAnswer: (r: JsonReply | null) => void = () => {}) {}

  /**
   * POST /rate/increment on `baseUrl`. Anything but a 200 or 429 may still
   * have been applied, so its outcome is recorded as unknown.
   */
  async increment(baseUrl: string, key: string, client: string | number, opts: SendOptions = {}): Promise<JsonReply | null> {
    const call = performance.now()
    const r = await this.send(`${baseUrl}/rate/increment?client_id=${encodeURIComponent(key)}${opts.query ?? ''}`, { method: 'POST' }, opts.timeoutMs)
    const outcome = r !== null && (r.status === 200 || r.status === 429) ? outcomeOf(r) : 'unknown'
    this.history.push({ id: this.nextId++, clientId: client, key, kind: 'increment', cost: 1, call, ret: outcome === 'unknown' ? Infinity : performance.now(), outcome })
    return r
  }

  /** GET /rate/check on `baseUrl`. A read that failed had no effect, so only a 200 is recorded. */
  async check(baseUrl: string, key: string, client: string | number, opts: SendOptions = {}): Promise<JsonReply | null> {
    const call = performance.now()
    const r = await this.send(`${baseUrl}/rate/check?client_id=${encodeURIComponent(key)}${opts.query ?? ''}`, {}, opts.timeoutMs)
    if (r?.status === 200) this.history.push({ id: this.nextId++, clientId: client, key, kind: 'check', cost: 1, call, ret: performance.now(), outcome: outcomeOf(r) })
    return r
  }

  private async send(url: string, init: RequestInit, timeoutMs: number | undefined): Promise<JsonReply | null> {
    let r: JsonReply | null = null
    try {
      r = await getJson(url, init, timeoutMs)
    } catch {
      r = null
    }
    this.onAnswer(r)
    return r
  }
}

function outcomeOf(r: JsonReply): { admitted: boolean; remaining: number } {
  return { admitted: r.body['result'] === true, remaining: Number(r.body['remaining_quota']) }
}
