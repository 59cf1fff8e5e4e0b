// InstallSnapshot on the wire: the image is cut into chunks, each one POST
// whose headers say which snapshot it belongs to and where it starts. The
// sender waits for each chunk's 204 before sending the next (flow control:
// one chunk in flight, so a slow follower slows the sender, not its memory).
// The receiver keeps the chunks in memory only: nothing reaches the core or
// the disk until the last chunk has arrived, so a crash on either side
// mid-transfer leaves nothing half-installed, and the leader starts over.
import { RateLimiterError } from '../errors.js'
import { decodeConfig, encodeConfig } from '../raft/config.js'
import type { ClusterConfig, InstallSnapshot, NodeId } from '../raft/types.js'

export const SNAPSHOT_HEADERS = {
  to: 'x-raft-to',
  term: 'x-snap-term',
  index: 'x-snap-index',
  snapTerm: 'x-snap-last-term',
  offset: 'x-snap-offset',
  total: 'x-snap-total',
  /** The cluster configuration the snapshot was taken under (JSON), when it has one. */
  config: 'x-snap-config',
} as const

/** Which snapshot a chunk belongs to, and where it sits in the image. */
export interface ChunkHeader {
  readonly from: NodeId
  readonly to: NodeId
  readonly term: number
  readonly index: number
  readonly snapTerm: number
  readonly offset: number
  readonly total: number
  readonly config?: ClusterConfig
}

export function chunkHeaders(m: InstallSnapshot, offset: number, total: number): Record<string, string> {
  return {
    ...(m.config === undefined ? {} : { [SNAPSHOT_HEADERS.config]: encodeConfig(m.config) }),
    [SNAPSHOT_HEADERS.to]: m.to,
    [SNAPSHOT_HEADERS.term]: String(m.term),
    [SNAPSHOT_HEADERS.index]: String(m.index),
    [SNAPSHOT_HEADERS.snapTerm]: String(m.snapTerm),
    [SNAPSHOT_HEADERS.offset]: String(offset),
    [SNAPSHOT_HEADERS.total]: String(total),
  }
}

function count(headers: Record<string, unknown>, name: string): number {
  const raw = headers[name]
  const n = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(n)) throw new RateLimiterError('INVALID_PEER_MESSAGE', `header ${name} must be a non-negative integer`)
  return n
}

export function parseChunkHeader(from: unknown, headers: Record<string, unknown>): ChunkHeader {
  const to = headers[SNAPSHOT_HEADERS.to]
  if (typeof from !== 'string' || from.length === 0 || typeof to !== 'string' || to.length === 0) {
    throw new RateLimiterError('INVALID_PEER_MESSAGE', 'snapshot chunk without sender or receiver')
  }
  const rawConfig = headers[SNAPSHOT_HEADERS.config]
  let config: ClusterConfig | undefined
  if (rawConfig !== undefined) {
    const decoded = typeof rawConfig === 'string' ? decodeConfig(rawConfig) : 'not a single header'
    if (typeof decoded === 'string') throw new RateLimiterError('INVALID_PEER_MESSAGE', `header ${SNAPSHOT_HEADERS.config}: ${decoded}`)
    config = decoded
  }
  return {
    ...(config === undefined ? {} : { config }),
    from,
    to,
    term: count(headers, SNAPSHOT_HEADERS.term),
    index: count(headers, SNAPSHOT_HEADERS.index),
    snapTerm: count(headers, SNAPSHOT_HEADERS.snapTerm),
    offset: count(headers, SNAPSHOT_HEADERS.offset),
    total: count(headers, SNAPSHOT_HEADERS.total),
  }
}

interface Assembly {
  readonly head: ChunkHeader
  readonly parts: Buffer[]
  received: number
}

/** Collects chunks per sender; a chunk at offset 0 starts over, anything out of order is refused. */
export class SnapshotAssembler {
  private readonly bySender = new Map<NodeId, Assembly>()

  constructor(private readonly maxBytes: number) {}

  /** The whole InstallSnapshot once its last chunk arrives, else null. Throws (409-style) on a chunk out of place. */
  accept(head: ChunkHeader, body: Buffer): InstallSnapshot | null {
    if (head.total > this.maxBytes) {
      throw new RateLimiterError('INVALID_PEER_MESSAGE', `snapshot of ${head.total} bytes exceeds the limit of ${this.maxBytes}`)
    }
    if (head.offset + body.length > head.total) throw new RateLimiterError('INVALID_PEER_MESSAGE', 'snapshot chunk runs past the total size')
    let a = this.bySender.get(head.from)
    if (head.offset === 0) {
      a = { head, parts: [], received: 0 }
      this.bySender.set(head.from, a)
    } else if (a === undefined || !sameSnapshot(a.head, head) || a.received !== head.offset) {
      this.bySender.delete(head.from)
      throw new RateLimiterError('SNAPSHOT_OUT_OF_ORDER', `chunk at ${head.offset} of snapshot ${head.index}@${head.term} does not continue a transfer`)
    }
    a.parts.push(body)
    a.received += body.length
    if (a.received < head.total) return null
    this.bySender.delete(head.from)
    const data = Buffer.concat(a.parts, a.received).toString('utf8')
    const m: InstallSnapshot = { type: 'snapshot', from: head.from, to: head.to, term: head.term, index: head.index, snapTerm: head.snapTerm, data }
    return head.config === undefined ? m : { ...m, config: head.config }
  }

  /** Transfers in progress (for status and tests). */
  get pending(): number {
    return this.bySender.size
  }
}

function sameSnapshot(a: ChunkHeader, b: ChunkHeader): boolean {
  return a.to === b.to && a.term === b.term && a.index === b.index && a.snapTerm === b.snapTerm && a.total === b.total
}
