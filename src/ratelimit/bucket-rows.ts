// Bucket rows in queue order (oldest first), read by row number: what
// snapshots and state hashes read. The table hands out a FrozenBuckets view
// (frozen-buckets.ts).
export interface BucketRows {
  readonly count: number
  key(i: number): string
  level(i: number): number
  stamp(i: number): number
  windowMs(i: number): number
  fullAt(i: number): number
}
