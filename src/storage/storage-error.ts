// Errors the storage adapters raise. None of them is a normal cluster event:
// the driver should stop the node rather than carry on with unknown disk state.

export type StorageErrorCode =
  /** The stored term/vote cannot be read: starting anyway could vote twice in one term. */
  | 'HARD_STATE_CORRUPT'
  /** save() was given entries that would leave a hole or are not contiguous. */
  | 'INVALID_APPEND'
  /** A synced write failed; after that, what is on disk is unknown, so every later call fails too. */
  | 'WRITE_FAILED'
  /** The stored snapshot cannot be read: the log after it would be applied to the wrong state. */
  | 'SNAPSHOT_CORRUPT'
  /** compact() was asked to cover entries the log does not hold. */
  | 'INVALID_COMPACT'
  | 'CLOSED'

export class StorageError extends Error {
  readonly code: StorageErrorCode

  constructor(code: StorageErrorCode, message: string, options?: { cause: unknown }) {
    super(message, options)
    this.name = 'StorageError'
    this.code = code
  }
}
