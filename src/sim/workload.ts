// Concurrent clients. Each runs a closed loop: pick an increment (random key,
// cost 1..maxCost) or a check, send it to a random node, and on a timeout or
// a refusal retry at another node until the op's deadline. An increment keeps
// its request id across retries, so it takes effect at most once; an op that
// never got an answer is recorded with an unknown outcome (ret = Infinity).
import type { OpOutcome } from '../check/history.js'
import type { EventQueue } from './event-queue.js'
import type { Prng } from './prng.js'
import type { Trace } from './trace.js'
import type { Reply, SimConfig } from './types.js'

export interface SimOp {
  readonly id: number
  readonly clientId: number
  readonly key: string
  readonly kind: 'increment' | 'check'
  readonly cost: number
  readonly requestId: string
  readonly call: number
  ret: number
  outcome: OpOutcome | 'unknown'
  stamp: number | undefined
  attempts: number
  open: boolean
  /** Node whose answer closed the op. */
  answeredBy: string | null
  /** Nodes tried, in order. */
  readonly tried: string[]
}

/** How a client reaches a node; the world drops requests to dead nodes. */
export type ClientPort = (node: string, op: SimOp, reply: (r: Reply) => void) => void

export interface IssueOptions {
  readonly clientId: number
  readonly kind: 'increment' | 'check'
  readonly key: string
  readonly cost: number
  /** First node to try (default: random). */
  readonly node?: string
  /** Give up after this many attempts (default: until the deadline). */
  readonly maxAttempts?: number
  readonly deadlineMs?: number
  readonly onDone?: (op: SimOp) => void
}

export class Workload {
  readonly ops: SimOp[] = []
  private stopAt = 0
  private nextOp = 1
  /** Called whenever an op closes (with an answer or as unknown). */
  onClose: ((op: SimOp) => void) | undefined

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    private readonly cfg: SimConfig,
    private readonly ids: readonly string[],
    private readonly port: ClientPort,
    private readonly trace: Trace,
  ) {}

  /** Starts the closed-loop clients; they issue no new op at or after `stopAt`. */
  start(stopAt: number): void {
    this.stopAt = stopAt
    for (let c = 0; c < this.cfg.clients; c++) this.queue.after(this.prng.int(0, 30), () => this.loop(c))
  }

  private loop(clientId: number): void {
    if (this.queue.now >= this.stopAt) return
    const kind = this.prng.chance(this.cfg.checkRatio) ? 'check' : 'increment'
    const key = this.prng.pick(this.cfg.keys)
    const cost = kind === 'check' ? 1 : this.prng.int(1, this.cfg.maxCost)
    this.issue({
      clientId,
      kind,
      key,
      cost,
      onDone: () => this.queue.after(this.prng.int(this.cfg.thinkMs[0], this.cfg.thinkMs[1]), () => this.loop(clientId)),
    })
  }

  issue(o: IssueOptions): SimOp {
    const id = this.nextOp++
    const op: SimOp = {
      id,
      clientId: o.clientId,
      key: o.key,
      kind: o.kind,
      cost: o.cost,
      requestId: `r${id}`,
      call: this.queue.now,
      ret: Infinity,
      outcome: 'unknown',
      stamp: undefined,
      attempts: 0,
      open: true,
      answeredBy: null,
      tried: [],
    }
    this.ops.push(op)
    const deadline = op.call + (o.deadlineMs ?? this.cfg.opDeadlineMs)
    const maxAttempts = o.maxAttempts ?? Infinity
    const close = (): void => {
      op.open = false
      const t = this.trace
      t.on && t.log(`client${op.clientId} ${op.kind} ${op.requestId} ${op.key}x${op.cost} -> ${describe(op)}`)
      this.onClose?.(op)
      o.onDone?.(op)
    }
    const attempt = (node: string): void => {
      if (!op.open) return
      op.attempts++
      op.tried.push(node)
      const n = op.attempts
      const [lo, hi] = this.cfg.clientDelay
      this.queue.after(this.prng.int(lo, hi), () =>
        this.port(node, op, (r) =>
          this.queue.after(this.prng.int(lo, hi), () => {
            if (!op.open) return
            if (r.ok) {
              op.ret = this.queue.now
              op.outcome = { admitted: r.admitted, remaining: r.remaining }
              op.stamp = r.stamp
              op.answeredBy = node
              close()
            } else if (n === op.attempts) {
              retry(node)
            }
          }),
        ),
      )
      this.queue.after(this.cfg.attemptTimeoutMs, () => {
        if (op.open && n === op.attempts) retry(node)
      })
    }
    const retry = (last: string): void => {
      const backoff = this.prng.int(5, 25)
      if (op.attempts >= maxAttempts || this.queue.now + backoff >= deadline) {
        close()
        return
      }
      this.queue.after(backoff, () => attempt(this.pickOther(last)))
    }
    attempt(o.node ?? this.prng.pick(this.ids))
    return op
  }

  private pickOther(last: string): string {
    if (this.ids.length < 2) return last
    for (;;) {
      const n = this.prng.pick(this.ids)
      if (n !== last) return n
    }
  }
}

function describe(op: SimOp): string {
  if (op.outcome === 'unknown') return `unknown after ${op.attempts} attempts`
  return `${op.outcome.admitted ? 'admitted' : 'rejected'} remaining=${op.outcome.remaining} by ${op.answeredBy} stamp=${op.stamp ?? '-'}`
}
