// Virtual time: events run in time order, ties in scheduling order.
import t from 'tap'
import { EventQueue } from '../../src/sim/event-queue.js'

t.test('events run by time, equal times in the order scheduled', async (t) => {
  const q = new EventQueue()
  const out: string[] = []
  q.at(5, () => out.push('b5'))
  q.at(1, () => out.push('a1'))
  q.at(5, () => out.push('c5'))
  q.at(3, () => {
    out.push('d3')
    q.after(0, () => out.push('e3'))
    q.after(2, () => out.push('f5'))
  })
  q.runUntil(10)
  t.same(out, ['a1', 'd3', 'e3', 'b5', 'c5', 'f5'])
  t.equal(q.now, 10)
  t.equal(q.executed, 6)
})

t.test('runUntil stops at the bound and the past is refused', async (t) => {
  const q = new EventQueue()
  const out: number[] = []
  for (let i = 0; i < 100; i++) q.at((i * 37) % 101, () => out.push(q.now))
  q.runUntil(50)
  t.ok(out.every((x) => x <= 50))
  t.same(out, [...out].sort((a, b) => a - b), 'non-decreasing')
  t.throws(() => q.at(10, () => {}))
  q.runUntil(200)
  t.equal(out.length, 100)
})
