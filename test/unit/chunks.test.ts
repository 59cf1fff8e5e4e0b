import t from 'tap'
import { inChunks } from '../../src/chunks.js'

t.test('pieces of at most size, in order, covering every item once', async (t) => {
  const items = Array.from({ length: 10 }, (_, i) => i)
  t.same(inChunks(items, 4), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
  t.same(inChunks(items, 5), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
})

t.test('a list that fits is the only piece, not a copy; an empty list is one empty piece', async (t) => {
  const items = [1, 2, 3]
  const [only, ...rest] = inChunks(items, 3)
  t.equal(only, items)
  t.same(rest, [])
  t.same(inChunks([], 3), [[]])
})
