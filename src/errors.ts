// The one registry of error codes. Every code here is documented in README.md
// (a test checks it), and every error a client can see is built from it.

export interface ErrorSpec {
  readonly status: number
  readonly message: string
  /** Seconds a client should wait before retrying, for statuses where that makes sense. */
  readonly retryAfterSec?: number
}

export const ERRORS = {
  INVALID_CLIENT_ID: { status: 400, message: 'client_id is required: 1 to 256 characters' },
  INVALID_COST: { status: 400, message: 'cost must be a whole number from 1 up to the bucket burst' },
  INVALID_REQUEST_ID: { status: 400, message: 'request_id must be 1 to 128 characters' },
  COST_EXCEEDS_BURST: { status: 400, message: 'cost is larger than the bucket burst, so it could never be admitted' },
  UNKNOWN_PARAMETER: { status: 400, message: 'unknown query parameter' },
  INVALID_BODY: { status: 400, message: 'request body is not valid JSON' },
  BAD_REQUEST: { status: 400, message: 'malformed request' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'request body is too large' },
  NOT_FOUND: { status: 404, message: 'no such route' },
  NO_LEADER: { status: 503, message: 'no leader is known; the cluster is electing one', retryAfterSec: 1 },
  NO_QUORUM: { status: 503, message: 'the cluster could not reach a quorum before the request deadline', retryAfterSec: 1 },
  NOT_READY: { status: 503, message: 'this node has no known leader or has not applied its log yet', retryAfterSec: 1 },
  SHUTTING_DOWN: { status: 503, message: 'this node is shutting down', retryAfterSec: 1 },
  UNAUTHORIZED: { status: 401, message: 'missing or wrong cluster secret' },
  NOT_LEADER: { status: 409, message: 'this node is not the leader; send the request to the leader named in /cluster/status' },
  UNKNOWN_NODE: { status: 400, message: 'to must name another member of the cluster' },
  TRANSFER_FAILED: { status: 503, message: 'leadership did not move before the deadline; this node still leads', retryAfterSec: 1 },
  INVALID_NODE_ID: { status: 400, message: 'id must be 1-64 characters of A-Z a-z 0-9 _ . -' },
  INVALID_ADDRESS: { status: 400, message: 'address must be host:port, the new member\'s Raft (peer) address' },
  MEMBER_EXISTS: { status: 409, message: 'this id is already a member (voter or learner)' },
  NOT_MEMBER: { status: 404, message: 'no member has this id' },
  NOT_LEARNER: { status: 409, message: 'only a learner can be promoted; this member already votes' },
  LAST_VOTER: { status: 409, message: 'the last voting member cannot be removed' },
  CHANGE_IN_PROGRESS: { status: 409, message: 'another membership change or a leadership transfer is in progress, or the new leader has not committed yet', retryAfterSec: 1 },
  LEARNER_BEHIND: { status: 409, message: 'the learner has not caught up with the leader\'s log yet', retryAfterSec: 1 },
  CHANGE_FAILED: { status: 503, message: 'the membership change did not commit before the deadline; read /cluster/status before retrying', retryAfterSec: 1 },
  REMOVED: { status: 503, message: 'this node is not a member of the cluster; send requests to a member', retryAfterSec: 1 },
  INVALID_PEER_MESSAGE: { status: 400, message: 'malformed peer message' },
  SNAPSHOT_OUT_OF_ORDER: { status: 409, message: 'snapshot chunk does not continue a transfer in progress; start over' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERRORS

/** An error a client may see: carries its stable code and the data that explains it. */
export class RateLimiterError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryAfterSec: number | undefined
  readonly detail: string | undefined
  /**
   * Set by the transport when a forward provably never left this node (no
   * connection was made, or there is no link to that node): the caller may
   * send it elsewhere without risking a double spend.
   */
  readonly neverSent: boolean

  constructor(code: ErrorCode, detail?: string, opts: { readonly neverSent?: boolean } = {}) {
    const spec: ErrorSpec = ERRORS[code]
    super(detail === undefined ? spec.message : `${spec.message}: ${detail}`)
    this.name = 'RateLimiterError'
    this.code = code
    this.status = spec.status
    this.retryAfterSec = spec.retryAfterSec
    this.detail = detail
    this.neverSent = opts.neverSent === true
  }
}

export function isRateLimiterError(e: unknown): e is RateLimiterError {
  return e instanceof RateLimiterError
}
