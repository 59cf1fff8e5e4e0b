// Bucket keys as bytes in one typed array instead of one V8 string each. A
// million ids as strings cost about 32 MB of heap (plus the Map that indexes
// them); as bytes they cost their length. A key whose code units all fit a
// byte is stored one byte per unit ("narrow"); any other key two bytes per
// unit, little-endian ("wide"). Each key has exactly one form, so a narrow
// and a wide key are never equal.
//
// A key's place is (start, form): `form` is the length in code units times
// two, plus one when wide.

/** True when every code unit of `key` fits a byte. */
export function isNarrow(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return false
  return true
}

export function formOf(key: string, narrow: boolean): number {
  return key.length * 2 + (narrow ? 0 : 1)
}

/** Bytes a key of this form occupies. */
export function byteLength(form: number): number {
  return form & 1 ? form - 1 : form >>> 1
}

/** Writes `key` at `start`; returns the end. */
export function writeKey(bytes: Uint8Array, start: number, key: string, form: number): number {
  if (form & 1) {
    for (let i = 0, p = start; i < key.length; i++, p += 2) {
      const c = key.charCodeAt(i)
      bytes[p] = c & 0xff
      bytes[p + 1] = c >>> 8
    }
  } else {
    for (let i = 0; i < key.length; i++) bytes[start + i] = key.charCodeAt(i)
  }
  return start + byteLength(form)
}

/** Does the key stored at (start, form) equal `key`, whose form is `form`? */
export function keyEquals(bytes: Uint8Array, start: number, storedForm: number, key: string, form: number): boolean {
  if (storedForm !== form) return false
  if (form & 1) {
    for (let i = 0, p = start; i < key.length; i++, p += 2) {
      if (((bytes[p] ?? 0) | ((bytes[p + 1] ?? 0) << 8)) !== key.charCodeAt(i)) return false
    }
  } else {
    for (let i = 0; i < key.length; i++) if (bytes[start + i] !== key.charCodeAt(i)) return false
  }
  return true
}

// String.fromCharCode.apply takes the units as arguments: keep each call small.
const DECODE_CHUNK = 4096

export function readKey(bytes: Uint8Array, start: number, form: number): string {
  const n = form >>> 1
  let units: Uint8Array | Uint16Array
  if (form & 1) {
    units = new Uint16Array(n)
    for (let i = 0, p = start; i < n; i++, p += 2) units[i] = (bytes[p] ?? 0) | ((bytes[p + 1] ?? 0) << 8)
  } else {
    units = bytes.subarray(start, start + n)
  }
  if (n <= DECODE_CHUNK) return String.fromCharCode.apply(null, units as unknown as number[])
  let s = ''
  for (let i = 0; i < n; i += DECODE_CHUNK) s += String.fromCharCode.apply(null, units.subarray(i, i + DECODE_CHUNK) as unknown as number[])
  return s
}
