import { createHash, timingSafeEqual } from 'node:crypto'

// Both sides are hashed first so timingSafeEqual always compares equal-length
// buffers and the comparison time reveals neither content nor length of the secret.
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/** Returns a predicate telling whether a presented header value is the cluster secret. */
export function clusterSecretMatcher(secret: string): (presented: unknown) => boolean {
  if (secret.length === 0) throw new Error('cluster secret must not be empty: peers would be unauthenticated')
  const expected = digest(secret)
  return (presented) => typeof presented === 'string' && timingSafeEqual(digest(presented), expected)
}
