// Sends one InstallSnapshot to one peer as a sequence of chunk POSTs, each
// waiting for the previous one's answer (see snapshot-chunks.ts). It has its
// own connection, so a long transfer never delays heartbeats and appends.
import { Pool } from 'undici'
import type { InstallSnapshot } from '../raft/types.js'
import { chunkHeaders } from './snapshot-chunks.js'
import { RAFT_SNAPSHOT_PATH, SNAPSHOT_CONTENT_TYPE } from './peer-protocol.js'

export interface SnapshotSenderOptions {
  readonly origin: string
  /** Authentication and sender headers. */
  readonly headers: Record<string, string>
  readonly chunkBytes: number
  /** Per chunk: connect, headers and body. */
  readonly timeoutMs: number
}

export class SnapshotSender {
  private readonly pool: Pool

  constructor(private readonly opts: SnapshotSenderOptions) {
    this.pool = new Pool(opts.origin, {
      connections: 1,
      connect: { timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    })
  }

  /** Resolves once the peer has every chunk; rejects on the first refused or failed one. */
  async send(m: InstallSnapshot): Promise<void> {
    const image = Buffer.from(m.data, 'utf8')
    const total = image.length
    let offset = 0
    do {
      const end = Math.min(total, offset + this.opts.chunkBytes)
      const { statusCode, body } = await this.pool.request({
        method: 'POST',
        path: RAFT_SNAPSHOT_PATH,
        headers: { ...this.opts.headers, ...chunkHeaders(m, offset, total), 'content-type': SNAPSHOT_CONTENT_TYPE },
        body: image.subarray(offset, end),
      })
      const text = await body.text()
      if (statusCode !== 204) throw new Error(`snapshot chunk at ${offset} of ${total} refused: HTTP ${statusCode} ${text}`)
      offset = end
    } while (offset < total)
  }

  close(): Promise<void> {
    return this.pool.destroy()
  }
}
