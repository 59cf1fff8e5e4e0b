// Names both ends of the peer protocol must agree on (the undici client and the peer fastify app).

export const RAFT_MESSAGES_PATH = '/raft/messages'
export const RAFT_FORWARD_PATH = '/raft/forward'

/** Shared cluster secret; a request without the right one changes nothing (DESIGN §6). */
export const SECRET_HEADER = 'x-cluster-secret'
/** Sender's node id: for logs and diagnostics, never trusted for authentication. */
export const FROM_HEADER = 'x-raft-from'

/**
 * On a message batch: the sender reads messages from a 200 response's body,
 * so the receiver may hold the request open and answer with its replies.
 * Without it (an older sender) the receiver acknowledges at once with 204.
 */
export const REPLIES_HEADER = 'x-raft-replies'

/** Big enough for a large AppendEntries batch; the receiver enforces it. */
export const DEFAULT_PEER_BODY_LIMIT = 64 * 1024 * 1024

/** InstallSnapshot, one chunk per request (snapshot-chunks.ts). */
export const RAFT_SNAPSHOT_PATH = '/raft/snapshot'
export const SNAPSHOT_CONTENT_TYPE = 'application/octet-stream'
/** Chunk size the sender uses unless told otherwise; the receiver accepts chunks up to the peer body limit. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024
