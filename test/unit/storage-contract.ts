// The LogStore contract, run against every adapter (memory and LevelDB) so the
// reference adapter the other tests rely on cannot drift from the real one.
import type t from 'tap'
import type { Entry, HardState } from '../../src/raft/types.js'
import type { LogStore } from '../../src/storage/port.js'

/** A tap test object, as handed to t.test callbacks. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

export interface StoreHarness {
  readonly store: LogStore
  /** Closes the store returned last and opens a new one on the same data (for LevelDB: the same directory). */
  readonly reopen: () => Promise<LogStore>
  readonly cleanup: () => Promise<void>
}

/** Entries from..to inclusive, all in `term`; data differs by `tag` so overwrites are visible. */
export function makeEntries(from: number, to: number, term: number, tag = ''): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) {
    out.push(i % 5 === 0 ? { index: i, term, kind: 'noop', data: '' } : { index: i, term, kind: 'cmd', data: `${tag}cmd-${i}-é€😀` })
  }
  return out
}

export function runLogStoreContract(
  t: TapTest,
  name: string,
  makeStore: () => Promise<StoreHarness>,
): void {
  const withStore = (title: string, body: (t: TapTest, h: StoreHarness) => Promise<void>): void => {
    void t.test(`${name}: ${title}`, async (t) => {
      const h = await makeStore()
      try {
        await body(t, h)
      } finally {
        await h.cleanup()
      }
    })
  }

  withStore('an empty store loads as term 0, no vote, no entries', async (t, { store }) => {
    t.strictSame(await store.load(), { hardState: { term: 0, vote: null, commit: 0 }, entries: [], snapshot: null, corruption: null })
  })

  withStore('hard state and entries survive a reopen', async (t, { store, reopen }) => {
    await store.load()
    const hs: HardState = { term: 3, vote: 'node-2', commit: 4 }
    const entries = [...makeEntries(1, 4, 1), ...makeEntries(5, 7, 3)]
    await store.save(hs, entries)
    t.strictSame(await store.load(), { hardState: hs, entries, snapshot: null, corruption: null }, 'visible before reopen')
    const again = await reopen()
    t.strictSame(await again.load(), { hardState: hs, entries, snapshot: null, corruption: null }, 'visible after reopen')
  })

  withStore('hard state alone, and entries alone, leave the other untouched', async (t, { store, reopen }) => {
    await store.load()
    await store.save({ term: 1, vote: 'node-1', commit: 0 }, [])
    await store.save({ term: 2, vote: null, commit: 0 }, [])
    let loaded = await (await reopen()).load()
    t.strictSame(loaded.hardState, { term: 2, vote: null, commit: 0 })
    t.strictSame(loaded.entries, [])

    const s = await reopen()
    await s.load()
    await s.save(null, makeEntries(1, 3, 2))
    loaded = await (await reopen()).load()
    t.strictSame(loaded.hardState, { term: 2, vote: null, commit: 0 }, 'hard state kept when null is saved')
    t.strictSame(loaded.entries, makeEntries(1, 3, 2))
  })

  withStore('entries from the middle replace the stored suffix', async (t, { store, reopen }) => {
    await store.load()
    await store.save({ term: 1, vote: null, commit: 2 }, makeEntries(1, 10, 1))

    await store.save(null, makeEntries(6, 8, 2, 'b'))
    const shorter = [...makeEntries(1, 5, 1), ...makeEntries(6, 8, 2, 'b')]
    t.strictSame((await store.load()).entries, shorter, 'shorter overwrite drops 9..10')
    t.strictSame((await (await reopen()).load()).entries, shorter, 'and the drop is durable')

    const s = await reopen()
    await s.load()
    await s.save({ term: 3, vote: 'node-3', commit: 2 }, makeEntries(4, 12, 3, 'c'))
    const longer = [...makeEntries(1, 3, 1), ...makeEntries(4, 12, 3, 'c')]
    t.strictSame((await s.load()).entries, longer, 'longer overwrite')
    t.strictSame((await (await reopen()).load()).entries, longer, 'after reopen')

    const s2 = await reopen()
    await s2.load()
    await s2.save(null, makeEntries(1, 2, 4, 'd'))
    t.strictSame((await s2.load()).entries, makeEntries(1, 2, 4, 'd'), 'overwrite from index 1')
    await s2.save(null, makeEntries(3, 3, 4, 'e'))
    t.strictSame((await (await reopen()).load()).entries, [...makeEntries(1, 2, 4, 'd'), ...makeEntries(3, 3, 4, 'e')], 'plain append after')
  })

  withStore('entries that would leave a hole are refused and change nothing', async (t, { store }) => {
    await store.load()
    await store.save(null, makeEntries(1, 3, 1))
    await t.rejects(store.save(null, makeEntries(5, 6, 1)), { code: 'INVALID_APPEND' })
    await t.rejects(store.save(null, [...makeEntries(4, 4, 1), ...makeEntries(6, 6, 1)]), { code: 'INVALID_APPEND' })
    await store.save(null, makeEntries(4, 4, 1))
    t.strictSame((await store.load()).entries, makeEntries(1, 4, 1), 'the store still works after a refusal')
  })

  withStore('unawaited saves land, and resolve, in the order issued', async (t, { store, reopen }) => {
    await store.load()
    const resolved: number[] = []
    const pending: Promise<void>[] = []
    const rounds = 60
    for (let r = 1; r <= rounds; r++) {
      // Each save rewrites the log from index 1 with a length that goes up and down,
      // so any reordering leaves a visibly different log or hard state.
      const length = 1 + ((r * 7) % 11)
      pending.push(store.save({ term: r, vote: `node-${r % 3}`, commit: 0 }, makeEntries(1, length, r)).then(() => { resolved.push(r) }))
    }
    await Promise.all(pending)
    t.strictSame(resolved, Array.from({ length: rounds }, (_, i) => i + 1), 'promises resolve in issue order')
    const lastLength = 1 + ((rounds * 7) % 11)
    const expected = { hardState: { term: rounds, vote: `node-${rounds % 3}`, commit: 0 }, entries: makeEntries(1, lastLength, rounds), snapshot: null, corruption: null }
    t.strictSame(await store.load(), expected, 'the last save wins')
    t.strictSame(await (await reopen()).load(), expected, 'after reopen')
  })

  withStore('a 10 000-entry batch round-trips, and can be cut back', async (t, { store, reopen }) => {
    await store.load()
    const big = makeEntries(1, 10_000, 7, 'x'.repeat(40))
    await store.save({ term: 7, vote: 'node-1', commit: 9_000 }, big)
    let loaded = await (await reopen()).load()
    t.equal(loaded.entries.length, 10_000)
    t.strictSame(loaded.entries, big)
    t.strictSame(loaded.hardState, { term: 7, vote: 'node-1', commit: 9_000 })

    const s = await reopen()
    await s.load()
    await s.save({ term: 8, vote: 'node-1', commit: 100 }, makeEntries(101, 101, 8))
    loaded = await (await reopen()).load()
    t.strictSame(loaded.entries, [...big.slice(0, 100), ...makeEntries(101, 101, 8)])
  })

  withStore('compact stores the snapshot and drops the entries it covers, in one step', async (t, { store, reopen }) => {
    await store.load()
    const entries = makeEntries(1, 20, 2)
    await store.save({ term: 2, vote: 'node-1', commit: 15 }, entries)
    const snap = { index: 12, term: 2, data: '{"image":"é€😀"}\n[1,2]\n\n[3]' }
    await store.compact({ index: 12, term: 2 }, snap.data.split('\n'))
    const expected = { hardState: { term: 2, vote: 'node-1', commit: 15 }, entries: entries.slice(12), snapshot: snap, corruption: null }
    t.strictSame(await store.load(), expected, 'before reopen')
    const again = await reopen()
    t.strictSame(await again.load(), expected, 'after reopen')
    t.strictSame(await again.loadSnapshot(), snap)

    await again.compact({ index: 5, term: 1 }, ['older'])
    t.strictSame(await again.loadSnapshot(), snap, 'an older snapshot is ignored')
    await t.rejects(again.compact({ index: 21, term: 2 }, ['x']), { code: 'INVALID_COMPACT' }, 'cannot cover entries it does not have')
    await t.rejects(again.save(null, makeEntries(12, 12, 2)), { code: 'INVALID_APPEND' }, 'no entry may be written inside the snapshot')

    // Appending and truncating after the snapshot work as before.
    await again.save(null, makeEntries(18, 22, 3, 'b'))
    await again.compact({ index: 20, term: 3 }, ['at 20'])
    t.strictSame((await (await reopen()).load()).entries, makeEntries(21, 22, 3, 'b'))
  })

  withStore('a snapshot keeps the cluster configuration it was taken under', async (t, { store, reopen }) => {
    await store.load()
    await store.save({ term: 2, vote: null, commit: 6 }, makeEntries(1, 6, 2))
    const config = { voters: ['node-1', 'node-2', 'node-4'], learners: ['node-5'] }
    await store.compact({ index: 5, term: 2, config }, ['img'])
    const again = await reopen()
    t.strictSame((await again.load()).snapshot, { index: 5, term: 2, config, data: 'img' })
    t.strictSame(await again.loadSnapshot(), { index: 5, term: 2, config, data: 'img' })
    await again.save(null, [], { index: 9, term: 3, config: { voters: ['node-1'], learners: [] }, data: 'leader' })
    t.strictSame((await (await reopen()).load()).snapshot?.config, { voters: ['node-1'], learners: [] }, 'an installed one too')
  })

  withStore('a snapshot saved from the leader replaces the whole log', async (t, { store, reopen }) => {
    await store.load()
    await store.save({ term: 1, vote: 'node-1', commit: 3 }, makeEntries(1, 8, 1))
    const snap = { index: 50, term: 4, data: 'leader image' }
    await store.save({ term: 4, vote: null, commit: 50 }, [], snap)
    let loaded = await (await reopen()).load()
    t.strictSame(loaded, { hardState: { term: 4, vote: null, commit: 50 }, entries: [], snapshot: snap, corruption: null })
    const s = await reopen()
    await s.load()
    await s.save(null, makeEntries(51, 53, 4))
    loaded = await (await reopen()).load()
    t.strictSame(loaded.entries, makeEntries(51, 53, 4), 'replication continues after the snapshot')
    t.equal(loaded.hardState.commit, 50)

    // A snapshot with entries after it, and a commit index that lags it (written earlier), loads consistently.
    const s2 = await reopen()
    await s2.load()
    await s2.save({ term: 5, vote: null, commit: 10 }, makeEntries(71, 72, 5), { index: 70, term: 5, data: 'newer' })
    loaded = await (await reopen()).load()
    t.strictSame(loaded.entries, makeEntries(71, 72, 5))
    t.equal(loaded.hardState.commit, 70, 'commit is never below the snapshot')
    const s3 = await reopen()
    await s3.load()
    await t.rejects(s3.save(null, makeEntries(90, 90, 5), { index: 80, term: 5, data: '' }), { code: 'INVALID_APPEND' }, 'entries must follow the snapshot directly')
    t.strictSame((await s3.load()).snapshot, { index: 70, term: 5, data: 'newer' }, 'the refused save changed nothing')
  })

  withStore('a closed store refuses work', async (t, { store }) => {
    await store.load()
    await store.close()
    await t.rejects(store.save(null, makeEntries(1, 1, 1)), { code: 'CLOSED' })
    await t.rejects(store.load(), { code: 'CLOSED' })
  })
}
