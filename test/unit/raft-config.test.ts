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

t.test('addresses travel with the configuration', async (t) => {
  const c = { voters: ['n1', 'n2'], learners: ['n3'], addresses: { n1: 'h1:1', n2: 'h2:2', n3: 'h3:3' } }
  t.strictSame(decodeConfig(encodeConfig(c)), c, 'round-trips')
  const bad = [
    '{"voters":["n1"],"learners":[],"addresses":[]}',
    '{"voters":["n1"],"learners":[],"addresses":{}}',
    '{"voters":["n1"],"learners":[],"addresses":{"n1":1}}',
    '{"voters":["n1"],"learners":[],"addresses":{"n1":""}}',
    '{"voters":["n1"],"learners":[],"addresses":{"n1":"h:1","n2":"h:2"}}',
  ]
  for (const s of bad) t.type(decodeConfig(s), 'string', s)

  t.same(applyConfChange(c, { type: 'add_learner', id: 'n4', address: 'h4:4' }), {
    voters: ['n1', 'n2'],
    learners: ['n3', 'n4'],
    addresses: { n1: 'h1:1', n2: 'h2:2', n3: 'h3:3', n4: 'h4:4' },
  })
  t.equal(applyConfChange(c, { type: 'add_learner', id: 'n4' }), 'address_required', 'a member nobody could reach is refused')
  t.same(applyConfChange(c, { type: 'promote', id: 'n3' }), { voters: ['n1', 'n2', 'n3'], learners: [], addresses: c.addresses })
  t.same(applyConfChange(c, { type: 'remove', id: 'n2' }), { voters: ['n1'], learners: ['n3'], addresses: { n1: 'h1:1', n3: 'h3:3' } })
  t.same(c.addresses, { n1: 'h1:1', n2: 'h2:2', n3: 'h3:3' }, 'the old configuration is left as it was')
  t.same(applyConfChange({ voters: ['n1'], learners: [] }, { type: 'add_learner', id: 'n2', address: 'h:2' }), { voters: ['n1'], learners: ['n2'] }, 'without addresses, none are added')
})

t.test('a node id such as __proto__ is a plain key', async (t) => {
  const c = decodeConfig('{"voters":["__proto__"],"learners":[],"addresses":{"__proto__":"h:1"}}')
  t.not(typeof c, 'string')
  if (typeof c === 'string') return
  t.same(Object.keys(c.addresses ?? {}), ['__proto__'])
  const grown = applyConfChange(c, { type: 'add_learner', id: 'n2', address: 'h:2' })
  t.not(typeof grown, 'string')
  if (typeof grown !== 'string') t.same(Object.keys(grown.addresses ?? {}).sort(), ['__proto__', 'n2'])
})
