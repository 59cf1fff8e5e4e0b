// Names both ends of the peer protocol must agree on (the undici client and the peer fastify app).

/** Raft messages: one long-lived request per sending peer, its body a sequence of frames (frame-codec.ts). */
export const RAFT_STREAM_PATH = '/raft/stream'
export const STREAM_CONTENT_TYPE = 'application/x-raft-frames'
/** On a stream request: how often the receiver writes a keepalive frame back, in ms. */
export const KEEPALIVE_HEADER = 'x-raft-keepalive-ms'
/** On a message stream's response: the receiver takes forwarded increments in frames (a peer without it gets them as requests). */
export const FORWARDS_HEADER = 'x-raft-forwards'
export const RAFT_FORWARD_PATH = '/raft/forward'

/** Shared cluster secret; a request without the right one changes nothing (DESIGN §6). */
export const SECRET_HEADER = 'x-cluster-secret'
/** Sender's node id: for logs and diagnostics, never trusted for authentication. */
export const FROM_HEADER = 'x-raft-from'

/** Big enough for a large AppendEntries batch (one frame, or one request); the receiver enforces it. */
export const DEFAULT_PEER_BODY_LIMIT = 64 * 1024 * 1024

/** InstallSnapshot, one chunk per request (snapshot-chunks.ts). */
export const RAFT_SNAPSHOT_PATH = '/raft/snapshot'
export const SNAPSHOT_CONTENT_TYPE = 'application/octet-stream'
/** Chunk size the sender uses unless told otherwise; the receiver accepts chunks up to the peer body limit. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024
