// InstallSnapshot chunking: headers round-trip (the cluster config included),
// chunks reassemble to the exact message, and anything out of place is refused
// without leaving a half-assembled snapshot behind.
import t from 'tap'
import type { InstallSnapshot } from '../../src/raft/types.js'
import { chunkHeaders, parseChunkHeader, SnapshotAssembler } from '../../src/transport/snapshot-chunks.js'

const msg: InstallSnapshot = {
  type: 'snapshot', from: 'node-1', to: 'node-2', term: 7, index: 900, snapTerm: 6,
  data: 'é'.repeat(5000) + '{"v":2}',
  config: { voters: ['node-1', 'node-2', 'node-4'], learners: ['node-5'] },
}

function chunks(m: InstallSnapshot, size: number): { headers: Record<string, string>; body: Buffer }[] {
  const image = Buffer.from(m.data, 'utf8')
  const out = []
  for (let off = 0; off < image.length || (off === 0 && image.length === 0); off += size) {
    out.push({ headers: chunkHeaders(m, off, image.length), body: image.subarray(off, off + size) })
    if (image.length === 0) break
  }
  return out
}

t.test('chunks reassemble into the same message, cluster config included', async (t) => {
  for (const m of [msg, { ...msg, config: undefined as never }, { ...msg, data: '' }]) {
    const plain: InstallSnapshot = m.config === undefined ? { type: 'snapshot', from: m.from, to: m.to, term: m.term, index: m.index, snapTerm: m.snapTerm, data: m.data } : m
    const a = new SnapshotAssembler(1 << 20)
    const parts = chunks(plain, 1024)
    let done: InstallSnapshot | null = null
    for (const [i, c] of parts.entries()) {
      done = a.accept(parseChunkHeader(plain.from, c.headers), c.body)
      if (i < parts.length - 1) t.equal(done, null, 'nothing before the last chunk')
    }
    t.same(done, plain, `${parts.length} chunks of ${Buffer.byteLength(plain.data)} bytes`)
    t.equal(a.pending, 0)
  }
})

t.test('a chunk out of place is refused and drops the transfer; offset 0 starts over', async (t) => {
  const a = new SnapshotAssembler(1 << 20)
  const parts = chunks(msg, 1000)
  const [c0, c1, c2] = parts as [(typeof parts)[0], (typeof parts)[0], (typeof parts)[0]]
  t.equal(a.accept(parseChunkHeader('node-1', c0.headers), c0.body), null)
  t.throws(() => a.accept(parseChunkHeader('node-1', c2.headers), c2.body), { code: 'SNAPSHOT_OUT_OF_ORDER' }, 'a gap')
  t.equal(a.pending, 0, 'the broken transfer is gone')
  t.throws(() => a.accept(parseChunkHeader('node-1', c1.headers), c1.body), { code: 'SNAPSHOT_OUT_OF_ORDER' }, 'no transfer to continue')
  // Another snapshot's chunk does not continue this one.
  a.accept(parseChunkHeader('node-1', c0.headers), c0.body)
  const other = chunkHeaders({ ...msg, index: 901 }, 1000, Buffer.byteLength(msg.data))
  t.throws(() => a.accept(parseChunkHeader('node-1', other), c1.body), { code: 'SNAPSHOT_OUT_OF_ORDER' })
})

t.test('bad headers and oversized snapshots are refused', async (t) => {
  const good = chunkHeaders(msg, 0, 10)
  t.throws(() => parseChunkHeader(undefined, good), { code: 'INVALID_PEER_MESSAGE' }, 'no sender')
  t.throws(() => parseChunkHeader('node-1', { ...good, 'x-snap-index': '-1' }), { code: 'INVALID_PEER_MESSAGE' })
  t.throws(() => parseChunkHeader('node-1', { ...good, 'x-snap-config': '{"voters":[]}' }), { code: 'INVALID_PEER_MESSAGE' }, 'a config without voters')
  const a = new SnapshotAssembler(100)
  t.throws(() => a.accept(parseChunkHeader('node-1', chunkHeaders(msg, 0, 101)), Buffer.alloc(10)), { code: 'INVALID_PEER_MESSAGE' }, 'over the limit')
  t.throws(() => new SnapshotAssembler(1000).accept(parseChunkHeader('node-1', chunkHeaders(msg, 5, 10)), Buffer.alloc(6)), { code: 'INVALID_PEER_MESSAGE' }, 'past the total')
})
