import { crc32 } from 'node:zlib'
import t from 'tap'
import type { Entry } from '../../src/raft/types.js'
import { decodeEntry, encodeEntry, ENTRY_HEADER_SIZE } from '../../src/storage/entry-codec.js'
import { decodeHardState, encodeHardState } from '../../src/storage/hard-state-codec.js'
import { entryKey, entryKeyIndex, HARD_STATE_KEY } from '../../src/storage/log-keys.js'

void t.test('entries round-trip, including empty and non-ASCII data and huge indexes', async (t) => {
  const cases: Entry[] = [
    { index: 1, term: 1, kind: 'noop', data: '' },
    { index: 42, term: 7, kind: 'cmd', data: '{"k":"é€😀"}' },
    { index: Number.MAX_SAFE_INTEGER, term: 2 ** 40 + 3, kind: 'cmd', data: 'x' },
    { index: 43, term: 7, kind: 'config', data: '{"voters":["n1","n2"],"learners":["n3"]}' },
  ]
  for (const e of cases) t.strictSame(decodeEntry(encodeEntry(e)), e)
})

void t.test('every single-bit flip is detected', async (t) => {
  const good = encodeEntry({ index: 300, term: 9, kind: 'cmd', data: 'abc' })
  let caught = 0
  for (let byte = 0; byte < good.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = Buffer.from(good)
      bad[byte] = (bad[byte] ?? 0) ^ (1 << bit)
      if (typeof decodeEntry(bad) === 'string') caught++
    }
  }
  t.equal(caught, good.length * 8)
})

void t.test('short values and unknown kinds are refused with a reason', async (t) => {
  t.match(decodeEntry(Buffer.alloc(ENTRY_HEADER_SIZE - 1)), /too short/)
  const bad = encodeEntry({ index: 1, term: 1, kind: 'cmd', data: 'a' })
  bad[20] = 9
  bad.writeUInt32BE(crc32(bad.subarray(4)), 0) // a valid checksum, so only the kind is wrong
  t.match(decodeEntry(bad), /bad kind/)
})

void t.test('entry keys sort numerically and decode back', async (t) => {
  const indexes = [1, 255, 256, 65_536, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]
  for (let i = 1; i < indexes.length; i++) {
    t.ok(Buffer.compare(entryKey(indexes[i - 1] ?? 0), entryKey(indexes[i] ?? 0)) < 0, `${indexes[i - 1]} < ${indexes[i]}`)
  }
  for (const i of indexes) t.equal(entryKeyIndex(entryKey(i)), i)
  t.equal(entryKeyIndex(HARD_STATE_KEY), null, 'the hard state key is not an entry key')
})

void t.test('hard state round-trips and rejects damage', async (t) => {
  for (const hs of [{ term: 0, vote: null, commit: 0 }, { term: 5, vote: 'node-3', commit: 17 }]) {
    t.strictSame(decodeHardState(encodeHardState(hs)), hs)
  }
  const buf = encodeHardState({ term: 5, vote: 'node-3', commit: 17 })
  buf[buf.length - 3] = (buf[buf.length - 3] ?? 0) ^ 0x04
  t.match(decodeHardState(buf), /checksum/)
})
