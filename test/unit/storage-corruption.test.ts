// LevelDB only: damage the stored log behind the store's back, then check that
// load() reports the first bad index, returns the good prefix and truncates the rest for good.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import t from 'tap'
import { encodeEntry } from '../../src/storage/entry-codec.js'
import { ENTRY_KEY_END, ENTRY_KEY_MIN, entryKey, HARD_STATE_KEY } from '../../src/storage/log-keys.js'
import { LevelLogStore } from '../../src/storage/level-log-store.js'
import { makeEntries, type TapTest } from './storage-contract.js'

type RawDb = ClassicLevel<Buffer, Buffer>

/** A directory holding entries 1..10 (term 1 up to 5, term 2 after) and commit 10. */
async function seededDir(t: TapTest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storage-corruption-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const store = new LevelLogStore(dir)
  await store.load()
  await store.save({ term: 2, vote: 'node-1', commit: 10 }, [...makeEntries(1, 5, 1), ...makeEntries(6, 10, 2)])
  await store.close()
  return dir
}

async function tamper(dir: string, edit: (db: RawDb) => Promise<void>): Promise<void> {
  const db: RawDb = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  try {
    await edit(db)
  } finally {
    await db.close()
  }
}

async function rawEntryKeyCount(dir: string): Promise<number> {
  let n = 0
  await tamper(dir, async (db) => {
    n = (await db.keys({ gte: ENTRY_KEY_MIN, lt: ENTRY_KEY_END }).all()).length
  })
  return n
}

async function loadOnce(dir: string) {
  const store = new LevelLogStore(dir)
  try {
    return await store.load()
  } finally {
    await store.close()
  }
}

const expectedPrefix = (last: number) => [...makeEntries(1, Math.min(last, 5), 1), ...makeEntries(6, last, 2)]

async function checkTruncatedTo(t: TapTest, dir: string, last: number): Promise<void> {
  const later = await loadOnce(dir)
  t.equal(later.corruption, null, 'a later reopen finds nothing wrong')
  t.strictSame(later.entries, expectedPrefix(last), 'and still has the good prefix only')
  t.equal(later.hardState.commit, last, 'with the clamped commit')
  t.equal(await rawEntryKeyCount(dir), last, 'the bad tail is gone from disk')
}

void t.test('a flipped byte in an entry value truncates the log there', async (t) => {
  const dir = await seededDir(t)
  await tamper(dir, async (db) => {
    const value = await db.get(entryKey(7))
    if (value === undefined) throw new Error('entry 7 missing from seed')
    value[value.length - 1] = (value[value.length - 1] ?? 0) ^ 0x01
    await db.put(entryKey(7), value)
  })
  const loaded = await loadOnce(dir)
  t.equal(loaded.corruption?.index, 7)
  t.match(loaded.corruption?.reason, /checksum/)
  t.strictSame(loaded.entries, expectedPrefix(6))
  t.strictSame(loaded.hardState, { term: 2, vote: 'node-1', commit: 6 }, 'commit clamped to the last good index')
  await checkTruncatedTo(t, dir, 6)
})

void t.test('a missing middle entry is reported as a gap', async (t) => {
  const dir = await seededDir(t)
  await tamper(dir, (db) => db.del(entryKey(4)))
  const loaded = await loadOnce(dir)
  t.equal(loaded.corruption?.index, 4)
  t.match(loaded.corruption?.reason, /missing entry 4/)
  t.strictSame(loaded.entries, expectedPrefix(3))
  await checkTruncatedTo(t, dir, 3)
})

void t.test('a torn (short) value is reported', async (t) => {
  const dir = await seededDir(t)
  await tamper(dir, async (db) => {
    const value = await db.get(entryKey(9))
    await db.put(entryKey(9), (value ?? Buffer.alloc(0)).subarray(0, 10))
  })
  const loaded = await loadOnce(dir)
  t.equal(loaded.corruption?.index, 9)
  t.match(loaded.corruption?.reason, /too short/)
  await checkTruncatedTo(t, dir, 8)
})

void t.test('a valid value under the wrong key is reported', async (t) => {
  const dir = await seededDir(t)
  await tamper(dir, async (db) => {
    const value = await db.get(entryKey(8))
    if (value === undefined) throw new Error('entry 8 missing from seed')
    await db.put(entryKey(3), value)
  })
  const loaded = await loadOnce(dir)
  t.equal(loaded.corruption?.index, 3)
  t.match(loaded.corruption?.reason, /claims index 8/)
  await checkTruncatedTo(t, dir, 2)
})

void t.test('a term lower than the previous entry is reported', async (t) => {
  const dir = await seededDir(t)
  await tamper(dir, (db) => db.put(entryKey(8), encodeEntry({ index: 8, term: 1, kind: 'cmd', data: 'stale' })))
  const loaded = await loadOnce(dir)
  t.equal(loaded.corruption?.index, 8)
  t.match(loaded.corruption?.reason, /term 1 is lower/)
  await checkTruncatedTo(t, dir, 7)
})

void t.test('the store keeps working after truncating a bad tail', async (t) => {
  const dir = await seededDir(t)
  await tamper(dir, (db) => db.del(entryKey(6)))
  const store = new LevelLogStore(dir)
  t.equal((await store.load()).corruption?.index, 6)
  await store.save(null, makeEntries(6, 7, 3))
  await store.close()
  const loaded = await loadOnce(dir)
  t.strictSame(loaded.entries, [...makeEntries(1, 5, 1), ...makeEntries(6, 7, 3)])
  t.equal(loaded.corruption, null)
})

void t.test('an unreadable hard state stops the load instead of forgetting the vote', async (t) => {
  const dir = await seededDir(t)
  await tamper(dir, async (db) => {
    const value = await db.get(HARD_STATE_KEY)
    if (value === undefined) throw new Error('hard state missing from seed')
    value[value.length - 2] = (value[value.length - 2] ?? 0) ^ 0x20
    await db.put(HARD_STATE_KEY, value)
  })
  const store = new LevelLogStore(dir)
  await t.rejects(store.load(), { code: 'HARD_STATE_CORRUPT' })
  await store.close()
})
