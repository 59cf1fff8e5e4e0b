// Framing of a message stream (DESIGN §6: one long-lived HTTP/1.1 request per
// peer whose body is a sequence of frames). A frame is a 4-byte big-endian
// length and that many bytes of payload. An empty frame carries nothing: the
// sender opens a stream with one (undici sends the request head with the
// body's first chunk) and the receiver answers with them as keepalives.

const HEADER_BYTES = 4

export const EMPTY_FRAME: Buffer = Buffer.alloc(HEADER_BYTES)

/** One frame holding `payload` as UTF-8. */
export function encodeFrame(payload: string): Buffer {
  const length = Buffer.byteLength(payload)
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length)
  frame.writeUInt32BE(length, 0)
  frame.write(payload, HEADER_BYTES)
  return frame
}

/** A frame longer than the reader allows: the stream cannot be trusted past it. */
export class FrameTooLargeError extends Error {
  constructor(readonly length: number, readonly maxBytes: number) {
    super(`frame of ${length} bytes is over the limit of ${maxBytes}`)
    this.name = 'FrameTooLargeError'
  }
}

/**
 * Cuts a byte stream back into frame payloads, whatever the chunking: a frame
 * may span chunks and a chunk may hold many frames. Empty frames are skipped.
 */
export class FrameReader {
  private chunks: Buffer[] = []
  private bytes = 0
  /** Bytes needed before the next frame can complete: chunks are joined only then, once per frame. */
  private needed = HEADER_BYTES

  constructor(private readonly maxFrameBytes: number) {}

  /** Payloads completed by `chunk`, as UTF-8 strings, in order. Throws FrameTooLargeError. */
  push(chunk: Buffer): string[] {
    this.chunks.push(chunk)
    this.bytes += chunk.length
    if (this.bytes < this.needed) return []
    const buf = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.bytes)
    const payloads: string[] = []
    let at = 0
    this.needed = HEADER_BYTES
    while (buf.length - at >= HEADER_BYTES) {
      const length = buf.readUInt32BE(at)
      if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes)
      const end = at + HEADER_BYTES + length
      if (end > buf.length) {
        this.needed = HEADER_BYTES + length
        break
      }
      if (length > 0) payloads.push(buf.toString('utf8', at + HEADER_BYTES, end))
      at = end
    }
    const rest = buf.subarray(at)
    this.chunks = rest.length === 0 ? [] : [rest]
    this.bytes = rest.length
    return payloads
  }

  /** Bytes of an incomplete frame held back (0 at a frame boundary). */
  get buffered(): number {
    return this.bytes
  }
}
