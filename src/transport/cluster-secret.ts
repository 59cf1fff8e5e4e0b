import { hash, timingSafeEqual } from 'node:crypto'

// Both sides are hashed first so timingSafeEqual always compares equal-length
// buffers and the comparison time reveals neither content nor length of the secret.
// The presented value must be hashed on every peer request for that reason;
// crypto.hash() is the one-shot form, about half the cost of createHash()
// (no Hash object, no stream machinery) on this per-request path.
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer')
}

/** Returns a predicate telling whether a presented header value is the cluster secret. */
export function clusterSecretMatcher(secret: string): (presented: unknown) => boolean {
  if (secret.length === 0) throw new Error('cluster secret must not be empty: peers would be unauthenticated')
  const expected = digest(secret) // once, not per request
  return (presented) => typeof presented === 'string' && timingSafeEqual(digest(presented), expected)
}
