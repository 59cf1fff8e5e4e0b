// LevelDB only: how a snapshot's image is stored. A line per value, written
// while appends go on; a snapshot being written when the process stops is
// never seen and its lines are removed at the next open; a damaged line is
// reported, not loaded; a store written before images were lines still opens
// and moves to lines with its next snapshot.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import t from 'tap'
import { encodeLegacySnapshot } from '../../src/storage/legacy-snapshot-codec.js'
import { LevelLogStore } from '../../src/storage/level-log-store.js'
import { LEGACY_SNAPSHOT_DATA_KEY, LEGACY_SNAPSHOT_META_KEY, lineKey, lineKeyParts, lineKeyRange } from '../../src/storage/log-keys.js'
import { makeEntries, type TapTest } from './storage-contract.js'

type RawDb = ClassicLevel<Buffer, Buffer>

async function freshDir(t: TapTest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storage-snapshot-lines-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function raw<T>(dir: string, use: (db: RawDb) => Promise<T>): Promise<T> {
  const db: RawDb = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  try {
    return await use(db)
  } finally {
    await db.close()
  }
}

/** Generation and line number of every stored line key, in key order. */
function lineKeys(dir: string): Promise<{ generation: number; line: number }[]> {
  return raw(dir, async (db) => (await db.keys(lineKeyRange(0, true)).all()).map((k) => lineKeyParts(k) ?? { generation: -1, line: -1 }))
}

async function storeWith20Entries(dir: string): Promise<LevelLogStore> {
  const store = new LevelLogStore(dir)
  await store.load()
  await store.save({ term: 2, vote: 'node-1', commit: 20 }, makeEntries(1, 20, 2))
  return store
}

t.test('appends go on while a snapshot is written, and a line is one value', async (t) => {
  const dir = await freshDir(t)
  const store = await storeWith20Entries(dir)
  let appended = 0
  // Between two lines, the next append must complete: it may not wait for the whole image.
  const lines = (async function* image() {
    yield 'line-0'
    await store.save(null, makeEntries(21, 21, 2))
    appended++
    yield 'line-1'
    await store.save(null, makeEntries(22, 22, 2))
    appended++
    yield ''
  })()
  await store.compact({ index: 10, term: 2 }, lines)
  t.equal(appended, 2, 'both appends completed while the snapshot was being written')
  await store.close()
  t.strictSame(await lineKeys(dir), [0, 1, 2].map((line) => ({ generation: 1, line })), 'one value per line')
  const loaded = await new LevelLogStore(dir).load()
  t.strictSame(loaded.snapshot, { index: 10, term: 2, data: 'line-0\nline-1\n' })
  t.strictSame(loaded.entries, makeEntries(11, 22, 2))
})

t.test('the next snapshot replaces the lines of the last one', async (t) => {
  const dir = await freshDir(t)
  const store = await storeWith20Entries(dir)
  await store.compact({ index: 5, term: 2 }, ['a', 'b', 'c'])
  await store.compact({ index: 10, term: 2 }, ['d'])
  await store.close()
  t.strictSame(await lineKeys(dir), [{ generation: 2, line: 0 }], "the first snapshot's lines are gone")
  const again = new LevelLogStore(dir)
  await again.load()
  await again.save(null, [], { index: 30, term: 3, data: 'x\ny' })
  await again.close()
  t.strictSame(await lineKeys(dir), [0, 1].map((line) => ({ generation: 3, line })), 'an installed snapshot replaces them too')
  t.strictSame((await new LevelLogStore(dir).load()).snapshot, { index: 30, term: 3, data: 'x\ny' })
})

t.test('a snapshot being written when the store closes is never loaded, and its lines go at the next open', async (t) => {
  const dir = await freshDir(t)
  const store = await storeWith20Entries(dir)
  await store.compact({ index: 5, term: 2 }, ['kept'])
  // The process stops after two lines of the next snapshot reached the disk.
  await store.close()
  await raw(dir, async (db) => {
    await db.put(lineKey(2, 0), Buffer.from('anything'))
    await db.put(lineKey(2, 1), Buffer.from('anything'))
  })
  const again = new LevelLogStore(dir)
  const loaded = await again.load()
  t.strictSame(loaded.snapshot, { index: 5, term: 2, data: 'kept' })
  await again.close()
  t.strictSame(await lineKeys(dir), [{ generation: 1, line: 0 }], 'the unfinished lines are deleted')
  const third = new LevelLogStore(dir)
  await third.load()
  await third.compact({ index: 10, term: 2 }, ['next'])
  await third.close()
  t.strictSame((await new LevelLogStore(dir).load()).snapshot, { index: 10, term: 2, data: 'next' }, 'the next snapshot is written as usual')
})

t.test('a failed image leaves the stored snapshot as it was', async (t) => {
  const dir = await freshDir(t)
  const store = await storeWith20Entries(dir)
  await store.compact({ index: 5, term: 2 }, ['kept'])
  const failing = (async function* image() {
    yield 'one'
    throw new Error('encoder failed')
  })()
  await t.rejects(store.compact({ index: 10, term: 2 }, failing), /encoder failed/)
  t.strictSame(await store.loadSnapshot(), { index: 5, term: 2, data: 'kept' })
  await t.rejects(store.compact({ index: 12, term: 2 }, ['has\na newline']), RangeError, 'a line holding a newline is refused')
  await store.close()
  t.strictSame(await lineKeys(dir), [{ generation: 1, line: 0 }], 'no stray lines stay behind')
})

t.test('a damaged or missing line is reported, not loaded', async (t) => {
  for (const [what, edit] of [
    ['a flipped byte', (db: RawDb) => db.get(lineKey(1, 1)).then((v) => db.put(lineKey(1, 1), Buffer.from((v as Buffer).map((b, i) => (i === 6 ? b ^ 1 : b)))))],
    ['a missing line', (db: RawDb) => db.del(lineKey(1, 1))],
    ['a missing last line', (db: RawDb) => db.del(lineKey(1, 2))],
  ] as const) {
    const dir = await freshDir(t)
    const store = await storeWith20Entries(dir)
    await store.compact({ index: 5, term: 2 }, ['line one', 'line two', 'line three'])
    await store.close()
    await raw(dir, edit)
    await t.rejects(new LevelLogStore(dir).load(), { code: 'SNAPSHOT_CORRUPT' }, what)
  }
})

t.test('a store from before line-stored snapshots opens, and its next snapshot is stored as lines', async (t) => {
  const dir = await freshDir(t)
  const store = await storeWith20Entries(dir)
  await store.close()
  const legacy = { index: 8, term: 2, config: { voters: ['node-1', 'node-2'], learners: [] }, data: '{"v":2,"whole":"image"}' }
  const { meta, data } = encodeLegacySnapshot(legacy)
  await raw(dir, async (db) => {
    const batch = db.batch().put(LEGACY_SNAPSHOT_META_KEY, meta).put(LEGACY_SNAPSHOT_DATA_KEY, data)
    for (let i = 1; i <= 8; i++) batch.del(Buffer.concat([Buffer.from('e'), Buffer.from([0, 0, 0, 0, 0, 0, 0, i])]))
    await batch.write()
  })
  const again = new LevelLogStore(dir)
  const loaded = await again.load()
  t.strictSame(loaded.snapshot, legacy, 'the old snapshot loads')
  t.strictSame(loaded.entries, makeEntries(9, 20, 2))
  t.strictSame(await again.loadSnapshot(), legacy)
  await again.compact({ index: 15, term: 2 }, ['new', 'lines'])
  await again.close()
  const legacyLeft = await raw(dir, async (db) => db.getMany([LEGACY_SNAPSHOT_META_KEY, LEGACY_SNAPSHOT_DATA_KEY]))
  t.strictSame(legacyLeft, [undefined, undefined], 'the old values are deleted with the first new snapshot')
  const last = await new LevelLogStore(dir).load()
  t.strictSame(last.snapshot, { index: 15, term: 2, data: 'new\nlines' })
  t.strictSame(last.entries, makeEntries(16, 20, 2))
})
