// Fills a LevelDB chained batch with log entries. Hot path of every Ready:
// keys and values of the whole batch are carved out of two allocations
// instead of two small buffers per entry.
import type { Entry } from '../raft/types.js'
import { encodeEntryInto, encodedEntrySize } from './entry-codec.js'
import { ENTRY_KEY_SIZE, writeEntryKey } from './log-keys.js'

/** The part of a chained batch we use; keeps this file independent of classic-level's generics. */
export interface BufferBatch {
  put(key: Buffer, value: Buffer): unknown
  del(key: Buffer): unknown
}

export function putEntries(batch: BufferBatch, entries: readonly Entry[]): void {
  const n = entries.length
  let valueBytes = 0
  for (let i = 0; i < n; i++) valueBytes += encodedEntrySize(entries[i] as Entry)
  const keys = Buffer.allocUnsafe(n * ENTRY_KEY_SIZE)
  const values = Buffer.allocUnsafe(valueBytes)
  let offset = 0
  for (let i = 0; i < n; i++) {
    const entry = entries[i] as Entry
    const keyAt = i * ENTRY_KEY_SIZE
    writeEntryKey(keys, entry.index, keyAt)
    const end = encodeEntryInto(values, offset, entry)
    batch.put(keys.subarray(keyAt, keyAt + ENTRY_KEY_SIZE), values.subarray(offset, end))
    offset = end
  }
}

/** Deletes entry keys from..to inclusive (nothing when from > to). */
export function delEntryRange(batch: BufferBatch, from: number, to: number): void {
  if (from > to) return
  const keys = Buffer.allocUnsafe((to - from + 1) * ENTRY_KEY_SIZE)
  for (let index = from, keyAt = 0; index <= to; index++, keyAt += ENTRY_KEY_SIZE) {
    writeEntryKey(keys, index, keyAt)
    batch.del(keys.subarray(keyAt, keyAt + ENTRY_KEY_SIZE))
  }
}
