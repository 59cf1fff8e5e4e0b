import type { Policy } from './policy.js'

/** The answer to one increment (or check), identical on every replica. */
export interface Decision {
  readonly admitted: boolean
  /** Whole tokens left after the operation. */
  readonly remaining: number
  /** 0 when admitted; else ms until the request's cost would be available. */
  readonly retryAfterMs: number
  /** ms until the bucket is full again. */
  readonly resetMs: number
  /** The policy the decision was made under. */
  readonly policy: Policy
  /** true when this is a retried request id answered from the dedup table. */
  readonly duplicate: boolean
}
