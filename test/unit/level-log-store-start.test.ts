// A save on an idle, open store hands its batch to LevelDB before save()
// returns, rather than a few microtasks later behind whatever else the turn
// queued; a save issued while another is pending still waits its turn.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ClassicLevel } from 'classic-level'
import t from 'tap'
import type { Entry } from '../../src/raft/types.js'
import { LevelLogStore } from '../../src/storage/level-log-store.js'

const entry = (index: number): Entry => ({ index, term: 1, kind: 'cmd', data: `c${index}` })

t.test('the first save starts at once, later ones queue behind it, all stay in order', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'level-start-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  // Count chained-batch writes as LevelDB receives them.
  let written = 0
  const proto = ClassicLevel.prototype as unknown as { batch: (...args: unknown[]) => unknown }
  const original = proto.batch
  proto.batch = function batch(this: unknown, ...args: unknown[]) {
    const b = original.apply(this, args) as { write: (...a: unknown[]) => Promise<void> }
    if (args.length === 0) {
      const write = b.write.bind(b)
      b.write = (...a: unknown[]) => {
        written++
        return write(...a)
      }
    }
    return b
  }
  t.teardown(() => {
    proto.batch = original
  })

  const store = new LevelLogStore(dir)
  await store.open()
  const first = store.save(null, [entry(1)])
  t.equal(written, 1, 'the batch reached LevelDB within save()')
  await first
  const second = store.save({ term: 1, vote: 'n1', commit: 1 }, [entry(2)])
  const third = store.save(null, [entry(3)])
  t.equal(written, 2, 'the second started at once; the third waits for it')
  await Promise.all([second, third])
  t.equal(written, 3)
  await store.close()

  const reopened = new LevelLogStore(dir)
  const loaded = await reopened.load()
  await reopened.close()
  t.same(loaded.entries.map((e) => e.index), [1, 2, 3])
  t.same(loaded.hardState, { term: 1, vote: 'n1', commit: 1 })
})

t.test('a store with onSyncedBatch tells of each batch it hands LevelDB and of its return, with the last index', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'level-observe-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const seen: string[] = []
  const store = new LevelLogStore(dir, { onSyncedBatch: (step, index) => seen.push(`${step} ${index}`) })
  await store.open()
  const first = store.save(null, [entry(1), entry(2)])
  t.same(seen, ['handed 2'], 'handed within save(), before LevelDB returns')
  await first
  await store.save({ term: 2, vote: null, commit: 2 }, [])
  await store.save(null, [])
  t.same(seen, ['handed 2', 'synced 2', 'handed 2', 'synced 2'], 'a hard-state-only write too; an empty save writes nothing')
  await store.close()
})
