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
    t.strictSame(await store.load(), { hardState: { term: 0, vote: null, commit: 0 }, entries: [], corruption: null })
  })

  withStore('hard state and entries survive a reopen', async (t, { store, reopen }) => {
    await store.load()
    const hs: HardState = { term: 3, vote: 'node-2', commit: 4 }
    const entries = [...makeEntries(1, 4, 1), ...makeEntries(5, 7, 3)]
    await store.save(hs, entries)
    t.strictSame(await store.load(), { hardState: hs, entries, corruption: null }, 'visible before reopen')
    const again = await reopen()
    t.strictSame(await again.load(), { hardState: hs, entries, corruption: null }, 'visible after reopen')
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
    const expected = { hardState: { term: rounds, vote: `node-${rounds % 3}`, commit: 0 }, entries: makeEntries(1, lastLength, rounds), corruption: null }
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

  withStore('a closed store refuses work', async (t, { store }) => {
    await store.load()
    await store.close()
    await t.rejects(store.save(null, makeEntries(1, 1, 1)), { code: 'CLOSED' })
    await t.rejects(store.load(), { code: 'CLOSED' })
  })
}
