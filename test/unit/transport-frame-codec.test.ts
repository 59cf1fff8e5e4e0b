import t from 'tap'
import { EMPTY_FRAME, encodeFrame, FrameReader, FrameTooLargeError } from '../../src/transport/frame-codec.js'
import { mulberry32 } from '../support/prng.js'

const payloads = ['', 'a', '{"v":1,"m":[]}', 'é and 字 and 🙂', 'x'.repeat(70_000)]
const wire = Buffer.concat([EMPTY_FRAME, ...payloads.map(encodeFrame), EMPTY_FRAME])
const nonEmpty = payloads.filter((p) => p.length > 0)

t.test('frames come back whole and in order, however the bytes are cut', async (t) => {
  const whole = new FrameReader(1_000_000)
  t.strictSame(whole.push(wire), nonEmpty, 'all in one chunk; empty frames are skipped')
  t.equal(whole.buffered, 0)

  const byByte = new FrameReader(1_000_000)
  const out: string[] = []
  for (let i = 0; i < wire.length; i++) out.push(...byByte.push(wire.subarray(i, i + 1)))
  t.strictSame(out, nonEmpty, 'one byte at a time (a multi-byte character split too)')

  const rand = mulberry32(7)
  for (let round = 0; round < 50; round++) {
    const reader = new FrameReader(1_000_000)
    const got: string[] = []
    for (let at = 0; at < wire.length; ) {
      const n = 1 + Math.floor(rand() * 9_000)
      got.push(...reader.push(wire.subarray(at, at + n)))
      at += n
    }
    t.strictSame(got, nonEmpty, `random cuts, round ${round}`)
  }
})

t.test('an incomplete frame is held back until its last byte', async (t) => {
  const frame = encodeFrame('hello')
  const reader = new FrameReader(100)
  t.strictSame(reader.push(frame.subarray(0, 6)), [])
  t.equal(reader.buffered, 6)
  t.strictSame(reader.push(frame.subarray(6)), ['hello'])
  t.equal(reader.buffered, 0)
})

t.test('a frame over the limit is refused from its header alone', async (t) => {
  const reader = new FrameReader(10)
  t.strictSame(reader.push(encodeFrame('0123456789')), ['0123456789'], 'at the limit is fine')
  const header = encodeFrame('01234567890').subarray(0, 4)
  t.throws(() => reader.push(header), FrameTooLargeError)
})
