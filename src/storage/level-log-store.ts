// LogStore on LevelDB (classic-level). Durability rules: DESIGN §3.
import { ClassicLevel } from 'classic-level'
import type { Entry, HardState } from '../raft/types.js'
import { checkAppend } from './append-rules.js'
import { decodeHardState, encodeHardState } from './hard-state-codec.js'
import { delEntryRange, putEntries } from './level-batch.js'
import { type Corruption, isCorruption, LogScan } from './log-scan.js'
import { ENTRY_KEY_END, ENTRY_KEY_MIN, entryKeyIndex, HARD_STATE_KEY } from './log-keys.js'
import { EMPTY_HARD_STATE, type LoadResult, type LogStore } from './port.js'
import { StorageError } from './storage-error.js'

type Db = ClassicLevel<Buffer, Buffer>

const SCAN_PAGE = 1024

export class LevelLogStore implements LogStore {
  readonly dir: string
  private db: Db | null = null
  private closed = false
  /** Last stored index, kept in memory so truncating a suffix needs no scan. */
  private lastIndex = 0
  /** Set once a synced write fails: disk state is then unknown, so nothing more may be written. */
  private failure: StorageError | null = null
  /** Every operation starts after the previous one settles: LevelDB gives concurrent writes no order. */
  private tail: Promise<unknown> = Promise.resolve()

  constructor(dir: string) {
    this.dir = dir
  }

  /** Optional: load() and save() open lazily. */
  open(): Promise<void> {
    return this.enqueue(async () => {
      await this.ensureOpen()
    })
  }

  load(): Promise<LoadResult> {
    return this.enqueue(async () => this.loadFrom(await this.ensureOpen()))
  }

  save(hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    return this.enqueue(async () => this.write(await this.ensureOpen(), hardState, entries))
  }

  close(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return
      this.closed = true
      const db = this.db
      this.db = null
      if (db !== null) await db.close()
    })
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op)
    this.tail = run.catch(() => undefined)
    return run
  }

  private async ensureOpen(): Promise<Db> {
    if (this.closed) throw new StorageError('CLOSED', `log store ${this.dir} is closed`)
    if (this.db !== null) return this.db
    const db: Db = new ClassicLevel<Buffer, Buffer>(this.dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    const lastKeys = await db.keys({ gte: ENTRY_KEY_MIN, lt: ENTRY_KEY_END, reverse: true, limit: 1 }).all()
    const lastKey = lastKeys[0]
    this.lastIndex = lastKey === undefined ? 0 : (entryKeyIndex(lastKey) ?? 0)
    this.db = db
    return db
  }

  private async write(db: Db, hardState: HardState | null, entries: readonly Entry[]): Promise<void> {
    if (this.failure !== null) throw this.failure
    const newLast = checkAppend(this.lastIndex, entries)
    if (hardState === null && entries.length === 0) return
    const batch = db.batch()
    try {
      if (hardState !== null) batch.put(HARD_STATE_KEY, encodeHardState(hardState))
      if (entries.length > 0) {
        putEntries(batch, entries)
        // Indexes up to newLast are overwritten by the puts; only a longer old tail needs deleting.
        delEntryRange(batch, newLast + 1, this.lastIndex)
      }
    } catch (e) {
      await batch.close()
      throw e
    }
    await this.commit(batch.write({ sync: true }))
    this.lastIndex = newLast
  }

  private async commit(write: Promise<void>): Promise<void> {
    try {
      await write
    } catch (cause) {
      this.failure = new StorageError('WRITE_FAILED', `synced write to ${this.dir} failed`, { cause })
      throw this.failure
    }
  }

  private async loadFrom(db: Db): Promise<LoadResult> {
    const stored = await db.get(HARD_STATE_KEY)
    let hardState: HardState = EMPTY_HARD_STATE
    if (stored !== undefined) {
      const decoded = decodeHardState(stored)
      if (typeof decoded === 'string') {
        throw new StorageError('HARD_STATE_CORRUPT', `hard state in ${this.dir} is unreadable (${decoded})`)
      }
      hardState = decoded
    }

    const scan = new LogScan()
    const entries: Entry[] = []
    let corruption: Corruption | null = null
    const badKeys: Buffer[] = []
    const it = db.iterator({ gte: ENTRY_KEY_MIN, lt: ENTRY_KEY_END })
    try {
      for (let page = await it.nextv(SCAN_PAGE); page.length > 0; page = await it.nextv(SCAN_PAGE)) {
        for (const [key, value] of page) {
          if (corruption !== null) {
            badKeys.push(key)
            continue
          }
          const r = scan.accept(key, value)
          if (isCorruption(r)) {
            corruption = r
            badKeys.push(key)
          } else {
            entries.push(r)
          }
        }
      }
    } finally {
      await it.close()
    }

    const lastIndex = scan.last?.index ?? 0
    // A commit index past the log would make the core apply entries it does not have.
    const clamped = hardState.commit > lastIndex
    if (clamped) hardState = { ...hardState, commit: lastIndex }
    if (corruption !== null || clamped) {
      if (this.failure !== null) throw this.failure
      const batch = db.batch()
      for (const key of badKeys) batch.del(key)
      if (clamped) batch.put(HARD_STATE_KEY, encodeHardState(hardState))
      await this.commit(batch.write({ sync: true }))
    }
    this.lastIndex = lastIndex
    return { hardState, entries, corruption }
  }
}
