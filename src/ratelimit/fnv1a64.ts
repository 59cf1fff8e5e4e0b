// FNV-1a 64-bit over the UTF-8 bytes of strings, in two 32-bit lanes so it
// needs no BigInt per byte. Used for replica state hashes, not for security.

// prime = 2^40 + 0x1b3, so h * prime = h * 0x1b3 + (h << 40) (mod 2^64).
const PRIME_LOW = 0x1b3

export class Fnv1a64 {
  #hi = 0xcbf29ce4
  #lo = 0x84222325

  byte(b: number): void {
    const lo = (this.#lo ^ b) >>> 0
    const hi = this.#hi
    const loProduct = lo * PRIME_LOW // < 2^41: exact in a double
    const carry = Math.floor(loProduct / 0x1_0000_0000)
    this.#lo = loProduct >>> 0
    this.#hi = (Math.imul(hi, PRIME_LOW) + carry + ((lo << 8) >>> 0)) >>> 0
  }

  /**
   * Feeds the UTF-8 encoding of `s`. A lone surrogate gets its own 3-byte
   * form (WTF-8) rather than U+FFFD, so distinct keys never feed equal bytes.
   */
  string(s: string): this {
    for (const ch of s) {
      const cp = ch.codePointAt(0) ?? 0
      if (cp < 0x80) this.byte(cp)
      else if (cp < 0x800) {
        this.byte(0xc0 | (cp >> 6))
        this.byte(0x80 | (cp & 0x3f))
      } else if (cp < 0x10000) {
        this.byte(0xe0 | (cp >> 12))
        this.byte(0x80 | ((cp >> 6) & 0x3f))
        this.byte(0x80 | (cp & 0x3f))
      } else {
        this.byte(0xf0 | (cp >> 18))
        this.byte(0x80 | ((cp >> 12) & 0x3f))
        this.byte(0x80 | ((cp >> 6) & 0x3f))
        this.byte(0x80 | (cp & 0x3f))
      }
    }
    return this
  }

  /** 16 lowercase hex digits. */
  hex(): string {
    return this.#hi.toString(16).padStart(8, '0') + this.#lo.toString(16).padStart(8, '0')
  }
}
