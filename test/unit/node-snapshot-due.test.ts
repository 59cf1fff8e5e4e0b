import t from 'tap'
import { LOG_SHARE_OF_STATE, snapshotDue } from '../../src/node/snapshot-due.js'

t.test('a small state waits for the configured number of entries', async (t) => {
  t.notOk(snapshotDue(19_999, 20_000, 1_000))
  t.ok(snapshotDue(20_000, 20_000, 1_000))
})

t.test('a large state waits for a share of its records, not for all of them', async (t) => {
  const records = 1_000_000
  const due = Math.ceil(records * LOG_SHARE_OF_STATE)
  t.ok(due < records, 'the log may not grow as large as the state')
  t.ok(due >= records / 8, 'but each snapshot still retires entries in proportion to its cost')
  t.notOk(snapshotDue(due - 1, 20_000, records))
  t.ok(snapshotDue(due, 20_000, records))
})
