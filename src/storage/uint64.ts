// Big-endian 8-byte integers without BigInt: log indexes and terms stay far
// below 2^53, and two 32-bit halves are cheaper than BigInt conversions.

const TWO_32 = 0x1_0000_0000

export function writeUint64BE(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), offset)
  buf.writeUInt32BE(value >>> 0, offset + 4)
}

export function readUint64BE(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4)
}
