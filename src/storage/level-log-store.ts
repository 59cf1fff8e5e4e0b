// LogStore on LevelDB (classic-level). Durability rules: DESIGN §3.
import { ClassicLevel } from 'classic-level'
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../raft/types.js'
import { checkAppend } from './append-rules.js'
import { decodeHardState, encodeHardState } from './hard-state-codec.js'
import { type BufferBatch, delEntryRange, putEntries } from './level-batch.js'
import { type Corruption, isCorruption, LogScan } from './log-scan.js'
import { decodeLegacySnapshot, decodeLegacySnapshotMeta } from './legacy-snapshot-codec.js'
import {
  ENTRY_KEY_END,
  ENTRY_KEY_MIN,
  entryKeyIndex,
  HARD_STATE_KEY,
  LEGACY_SNAPSHOT_DATA_KEY,
  LEGACY_SNAPSHOT_META_KEY,
  lineKey,
  lineKeyParts,
  lineKeyRange,
  lineKeysBefore,
  SNAPSHOT_LINES_META_KEY,
} from './log-keys.js'
import { decodeLine, decodeLinesMeta, encodeLine, encodeLinesMeta } from './snapshot-lines-codec.js'
import { EMPTY_HARD_STATE, type LoadResult, type LogStore } from './port.js'
import { StorageError } from './storage-error.js'

type Db = ClassicLevel<Buffer, Buffer>

const SCAN_PAGE = 1024

export interface LevelLogStoreOptions {
  /**
   * Told when save() hands its batch to LevelDB and when LevelDB's synced
   * write returns, with the last index the log then holds: the round trace's
   * view inside a write (ROUND_TRACE_DIR). Not told of failed writes.
   */
  readonly onSyncedBatch?: (step: 'handed' | 'synced', lastIndex: number) => void
}

export class LevelLogStore implements LogStore {
  readonly dir: string
  private db: Db | null = null
  private closed = false
  /** Last stored index (the snapshot's when no entry follows it), kept in memory so truncating a suffix needs no scan. */
  private lastIndex = 0
  /** The stored snapshot's position; entries start right after it. */
  private snap: SnapshotMeta = { index: 0, term: 0 }
  /** Where the stored snapshot's lines are (null: none, or one in the legacy layout). */
  private image: { readonly generation: number; readonly lines: number } | null = null
  /** A snapshot in the layout before lines is stored (deleted with the next snapshot). */
  private legacyImage = false
  /** Generation for the next snapshot written: every one gets its own line keys. */
  private nextGeneration = 1
  /** Set once a synced write fails: disk state is then unknown, so nothing more may be written. */
  private failure: StorageError | null = null
  /** Every operation starts after the previous one settles: LevelDB gives concurrent writes no order. */
  private tail: Promise<unknown> = Promise.resolve()
  /** Operations issued and not yet settled: with none, the next starts at once instead of behind whatever the microtask queue holds. */
  private pending = 0

  constructor(
    dir: string,
    private readonly opts: LevelLogStoreOptions = {},
  ) {
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

  save(hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null = null): Promise<void> {
    // With the store open, the batch reaches LevelDB within this call when nothing is queued ahead of it.
    // (db is set only while open: close() clears it.)
    return this.enqueue(() => {
      const db = this.db
      return db !== null ? this.write(db, hardState, entries, snapshot) : this.ensureOpen().then((d) => this.write(d, hardState, entries, snapshot))
    })
  }

  async compact(meta: SnapshotMeta, lines: Iterable<string> | AsyncIterable<string>): Promise<void> {
    const generation = await this.enqueue(async () => {
      await this.ensureOpen()
      return this.checkCompact(meta) ? this.nextGeneration++ : null
    })
    if (generation === null) return
    let count = 0
    try {
      // A put per line, each queued on its own, so appends are not held up
      // behind the whole image; the synced batch in compactTo covers them.
      for await (const line of lines) {
        const key = lineKey(generation, count++)
        const value = encodeLine(line)
        await this.enqueue(async () => {
          if (this.failure !== null) throw this.failure
          await (await this.ensureOpen()).put(key, value)
        })
      }
      await this.enqueue(async () => this.compactTo(await this.ensureOpen(), meta, generation, count))
    } catch (e) {
      // Lines nothing refers to; also removed at the next open if this fails.
      this.enqueue(async () => this.db?.clear(lineKeyRange(generation))).catch(() => undefined)
      throw e
    }
  }

  loadSnapshot(): Promise<Snapshot | null> {
    return this.enqueue(async () => this.readSnapshot(await this.ensureOpen()))
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
    const run = this.pending === 0 ? startNow(op) : this.tail.then(op)
    this.pending++
    this.tail = run.then(this.settled, this.settled)
    return run
  }

  private readonly settled = (): void => {
    this.pending--
  }

  private async ensureOpen(): Promise<Db> {
    if (this.closed) throw new StorageError('CLOSED', `log store ${this.dir} is closed`)
    if (this.db !== null) return this.db
    const db: Db = new ClassicLevel<Buffer, Buffer>(this.dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    const lastKeys = await db.keys({ gte: ENTRY_KEY_MIN, lt: ENTRY_KEY_END, reverse: true, limit: 1 }).all()
    const lastKey = lastKeys[0]
    const [linesMeta, legacyMeta] = await db.getMany([SNAPSHOT_LINES_META_KEY, LEGACY_SNAPSHOT_META_KEY])
    if (linesMeta !== undefined) {
      const decoded = decodeLinesMeta(linesMeta)
      if (typeof decoded === 'string') throw new StorageError('SNAPSHOT_CORRUPT', `snapshot in ${this.dir}: ${decoded}`)
      this.snap = { index: decoded.index, term: decoded.term }
      this.image = { generation: decoded.generation, lines: decoded.lines }
      this.nextGeneration = decoded.generation + 1
    } else if (legacyMeta !== undefined) {
      const decoded = decodeLegacySnapshotMeta(legacyMeta)
      if (typeof decoded === 'string') throw new StorageError('SNAPSHOT_CORRUPT', `snapshot in ${this.dir}: ${decoded}`)
      this.snap = { index: decoded.index, term: decoded.term }
    }
    this.legacyImage = linesMeta === undefined && legacyMeta !== undefined
    // Lines no meta names: a snapshot that was being written when the process stopped.
    const kept = this.image?.generation
    await db.clear(kept === undefined ? lineKeyRange(0, true) : lineKeysBefore(kept))
    if (kept !== undefined) await db.clear(lineKeyRange(kept + 1, true))
    this.lastIndex = Math.max(this.snap.index, lastKey === undefined ? 0 : (entryKeyIndex(lastKey) ?? 0))
    this.db = db
    return db
  }

  private async readSnapshot(db: Db): Promise<Snapshot | null> {
    const raw = await db.get(SNAPSHOT_LINES_META_KEY)
    if (raw === undefined) return this.readLegacySnapshot(db)
    const meta = decodeLinesMeta(raw)
    if (typeof meta === 'string') throw new StorageError('SNAPSHOT_CORRUPT', `snapshot in ${this.dir}: ${meta}`)
    const lines: string[] = []
    for await (const [key, value] of db.iterator(lineKeyRange(meta.generation))) {
      const line = decodeLine(value)
      if (typeof line !== 'string') throw new StorageError('SNAPSHOT_CORRUPT', `snapshot in ${this.dir}: ${line.problem} (line ${lines.length})`)
      if (lineKeyParts(key)?.line !== lines.length) throw new StorageError('SNAPSHOT_CORRUPT', `snapshot in ${this.dir}: line ${lines.length} missing`)
      lines.push(line)
    }
    if (lines.length !== meta.lines) {
      throw new StorageError('SNAPSHOT_CORRUPT', `snapshot in ${this.dir}: ${lines.length} of ${meta.lines} lines stored`)
    }
    return { ...snapshotMeta(meta), data: lines.join('\n') }
  }

  private async readLegacySnapshot(db: Db): Promise<Snapshot | null> {
    const [meta, data] = await db.getMany([LEGACY_SNAPSHOT_META_KEY, LEGACY_SNAPSHOT_DATA_KEY])
    if (meta === undefined) return null
    const decoded = data === undefined ? 'snapshot image missing' : decodeLegacySnapshot(meta, data)
    if (typeof decoded === 'string') throw new StorageError('SNAPSHOT_CORRUPT', `snapshot in ${this.dir}: ${decoded}`)
    return decoded
  }

  /** False for a snapshot not newer than the stored one (ignored); throws for one the log does not reach. */
  private checkCompact(meta: SnapshotMeta): boolean {
    if (this.failure !== null) throw this.failure
    if (meta.index <= this.snap.index) return false
    if (meta.index > this.lastIndex) {
      throw new StorageError('INVALID_COMPACT', `snapshot at ${meta.index} is past the stored last index ${this.lastIndex}`)
    }
    return true
  }

  private async compactTo(db: Db, meta: SnapshotMeta, generation: number, lines: number): Promise<void> {
    // A newer snapshot may have been installed while the lines were written.
    if (!this.checkCompact(meta)) {
      await db.clear(lineKeyRange(generation))
      return
    }
    const batch = db.batch()
    batch.put(SNAPSHOT_LINES_META_KEY, encodeLinesMeta({ ...meta, generation, lines }))
    this.dropStoredImage(batch)
    delEntryRange(batch, this.snap.index + 1, meta.index)
    await this.commit(batch.write({ sync: true }))
    this.snap = { index: meta.index, term: meta.term }
    this.image = { generation, lines }
    this.legacyImage = false
  }

  /** Deletes the stored snapshot's image, in the batch that stores its successor. */
  private dropStoredImage(batch: BufferBatch): void {
    if (this.image !== null) for (let i = 0; i < this.image.lines; i++) batch.del(lineKey(this.image.generation, i))
    if (this.legacyImage) {
      batch.del(LEGACY_SNAPSHOT_META_KEY)
      batch.del(LEGACY_SNAPSHOT_DATA_KEY)
    }
  }

  private async write(db: Db, hardState: HardState | null, entries: readonly Entry[], snapshot: Snapshot | null): Promise<void> {
    if (this.failure !== null) throw this.failure
    // A snapshot from the leader replaces the whole log: entries may only follow it.
    const base = snapshot === null ? this.snap : { index: snapshot.index, term: snapshot.term }
    const newLast = checkAppend(snapshot === null ? this.lastIndex : base.index, entries, base.index)
    if (hardState === null && entries.length === 0 && snapshot === null) return
    const batch = db.batch()
    let installed: { readonly generation: number; readonly lines: number } | null = null
    try {
      if (snapshot !== null) {
        delEntryRange(batch, this.snap.index + 1, this.lastIndex)
        installed = this.putImage(batch, snapshot)
      }
      if (hardState !== null) batch.put(HARD_STATE_KEY, encodeHardState(hardState))
      if (entries.length > 0) {
        putEntries(batch, entries)
        // Indexes up to newLast are overwritten by the puts; only a longer old tail needs deleting.
        if (snapshot === null) delEntryRange(batch, newLast + 1, this.lastIndex)
      }
    } catch (e) {
      await batch.close()
      throw e
    }
    this.opts.onSyncedBatch?.('handed', newLast)
    await this.commit(batch.write({ sync: true }))
    this.opts.onSyncedBatch?.('synced', newLast)
    this.snap = base
    this.lastIndex = Math.max(newLast, base.index)
    if (installed !== null) {
      this.image = installed
      this.legacyImage = false
    }
  }

  /** A snapshot from the leader, whole in memory already: its lines and meta go into the batch. */
  private putImage(batch: BufferBatch, snapshot: Snapshot): { readonly generation: number; readonly lines: number } {
    const generation = this.nextGeneration++
    const lines = snapshot.data.split('\n')
    lines.forEach((line, i) => batch.put(lineKey(generation, i), encodeLine(line)))
    batch.put(SNAPSHOT_LINES_META_KEY, encodeLinesMeta({ ...snapshotMeta(snapshot), generation, lines: lines.length }))
    this.dropStoredImage(batch)
    return { generation, lines: lines.length }
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

    const snapshot = await this.readSnapshot(db)
    const scan = new LogScan(snapshot === null ? null : { index: snapshot.index, term: snapshot.term })
    const entries: Entry[] = []
    let corruption: Corruption | null = null
    const badKeys: Buffer[] = []
    const it = db.iterator({ gte: ENTRY_KEY_MIN, lt: ENTRY_KEY_END })
    // Entries at or below the snapshot are not expected (compaction deletes them in its batch); skip any.
    try {
      for (let page = await it.nextv(SCAN_PAGE); page.length > 0; page = await it.nextv(SCAN_PAGE)) {
        for (const [key, value] of page) {
          if (snapshot !== null && (entryKeyIndex(key) ?? Infinity) <= snapshot.index) continue
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
    // The snapshot is committed: a hard state written before it (install) may lag.
    if (snapshot !== null && hardState.commit < snapshot.index) hardState = { ...hardState, commit: snapshot.index }
    if (corruption !== null || clamped) {
      if (this.failure !== null) throw this.failure
      const batch = db.batch()
      for (const key of badKeys) batch.del(key)
      if (clamped) batch.put(HARD_STATE_KEY, encodeHardState(hardState))
      await this.commit(batch.write({ sync: true }))
    }
    this.lastIndex = lastIndex
    this.snap = snapshot === null ? { index: 0, term: 0 } : { index: snapshot.index, term: snapshot.term }
    return { hardState, entries, snapshot, corruption }
  }
}

/** Index, term and config alone (a stored meta or a snapshot carries more). */
function snapshotMeta(m: SnapshotMeta): SnapshotMeta {
  return m.config === undefined ? { index: m.index, term: m.term } : { index: m.index, term: m.term, config: m.config }
}

/** Runs `op` in this call; a synchronous throw becomes a rejection, as it would a microtask later. */
function startNow<T>(op: () => Promise<T>): Promise<T> {
  try {
    return op()
  } catch (err) {
    return Promise.reject(err)
  }
}
