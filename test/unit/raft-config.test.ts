import t from 'tap'
import { applyConfChange, decodeConfig, encodeConfig } from '../../src/raft/config.js'

t.test('a config round-trips', async (t) => {
  for (const c of [{ voters: ['n1'], learners: [] }, { voters: ['n1', 'n2', 'n3'], learners: ['n4', 'nœ'] }]) {
    t.strictSame(decodeConfig(encodeConfig(c)), c)
  }
})

t.test('decoding is strict', async (t) => {
  const bad = [
    '',
    'null',
    '[]',
    '{"voters":["n1"]}',
    '{"voters":["n1"],"learners":[],"extra":1}',
    '{"voters":"n1","learners":[]}',
    '{"voters":[1],"learners":[]}',
    '{"voters":[""],"learners":[]}',
    '{"voters":[],"learners":["n1"]}',
    '{"voters":["n1","n1"],"learners":[]}',
    '{"voters":["n1"],"learners":["n1"]}',
  ]
  for (const s of bad) t.type(decodeConfig(s), 'string', JSON.stringify(s))
})

t.test('single-server changes', async (t) => {
  const c = { voters: ['n1', 'n2'], learners: ['n3'] }
  t.same(applyConfChange(c, { type: 'add_learner', id: 'n4' }), { voters: ['n1', 'n2'], learners: ['n3', 'n4'] })
  t.same(applyConfChange(c, { type: 'promote', id: 'n3' }), { voters: ['n1', 'n2', 'n3'], learners: [] })
  t.same(applyConfChange(c, { type: 'remove', id: 'n2' }), { voters: ['n1'], learners: ['n3'] })
  t.same(applyConfChange(c, { type: 'remove', id: 'n3' }), { voters: ['n1', 'n2'], learners: [] })
  t.equal(applyConfChange(c, { type: 'add_learner', id: 'n1' }), 'already_member')
  t.equal(applyConfChange(c, { type: 'add_learner', id: 'n3' }), 'already_member')
  t.equal(applyConfChange(c, { type: 'promote', id: 'n1' }), 'not_learner')
  t.equal(applyConfChange(c, { type: 'remove', id: 'n9' }), 'not_member')
  t.equal(applyConfChange({ voters: ['n1'], learners: ['n3'] }, { type: 'remove', id: 'n1' }), 'no_voters')
})
