// The rejoin marker keeps a node that lost its data from voting until it has
// caught up, also across a crash part-way through catching up.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { beginRejoin, endRejoin, REJOIN_MARKER, rejoinWatch } from '../../src/node/rejoin-marker.js'

t.test('the marker lasts from the first empty start until caught up', async (t) => {
  const dir = t.testdir({})
  const marker = path.join(dir, REJOIN_MARKER)
  t.equal(await beginRejoin(dir, false, true), false, 'a new cluster founder with an empty log is no rejoin')
  t.equal(await beginRejoin(dir, true, false), false, 'existing with a log of its own: an ordinary restart')
  t.equal(fs.existsSync(marker), false)

  t.equal(await beginRejoin(dir, true, true), true, 'existing with an empty log rejoins')
  t.equal(fs.existsSync(marker), true, 'and says so on disk')
  t.equal(await beginRejoin(dir, true, false), true, 'restarted with part of the log: still rejoining')
  t.equal(await beginRejoin(dir, false, false), true, 'even if the operator has meanwhile set INITIAL_CLUSTER_STATE back to new')

  await endRejoin(dir)
  t.equal(fs.existsSync(marker), false, 'caught up: the marker is gone')
  t.equal(await beginRejoin(dir, true, false), false, 'and later starts are ordinary restarts')
})

t.test('the tick watch removes the marker once, when caught up, and never for an ordinary start', async (t) => {
  const dir = t.testdir({})
  t.ok(await beginRejoin(dir, true, true))
  let caughtUp = false
  const removals: Promise<void>[] = []
  const poll = rejoinWatch(dir, true, () => caughtUp, (removal) => removals.push(removal))
  poll()
  t.equal(removals.length, 0, 'not yet caught up')
  t.ok(fs.existsSync(path.join(dir, REJOIN_MARKER)))
  caughtUp = true
  poll()
  poll()
  t.equal(removals.length, 1, 'removed once')
  await removals[0]
  t.notOk(fs.existsSync(path.join(dir, REJOIN_MARKER)))

  const ordinary = rejoinWatch(dir, false, () => true, () => t.fail('an ordinary start has no marker to remove'))
  ordinary()
})
