import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

const BASE = { NODE_ID: 'node-1', SERVER_PORT: '20001', RAFT_PORT: '50001', CLUSTER_SECRET: 'correct-horse' }

function clustersError(clusters: string): string {
  try {
    loadConfig({ ...BASE, CLUSTERS: clusters })
  } catch (e) {
    return e instanceof ConfigError ? e.message : `not a ConfigError: ${String(e)}`
  }
  return '<loaded without error>'
}

t.test('parses etcd-style members in order, self included', async (t) => {
  const c = loadConfig({ ...BASE, CLUSTERS: ' node-1=127.0.0.1:50001, node-2=10.0.0.2:50002 ,node-3=rl-3.local:50003' })
  t.same(c.peers, [
    { id: 'node-1', host: '127.0.0.1', port: 50001 },
    { id: 'node-2', host: '10.0.0.2', port: 50002 },
    { id: 'node-3', host: 'rl-3.local', port: 50003 },
  ])
  t.equal(c.selfPeer, c.peers[0])
})

t.test('IPv6 hosts keep their brackets', async (t) => {
  const c = loadConfig({ ...BASE, CLUSTERS: 'node-1=[::1]:50001,node-2=[::1]:50002' })
  t.same(c.peers[1], { id: 'node-2', host: '[::1]', port: 50002 })
})

t.test('a single-member cluster is allowed', async (t) => {
  t.equal(loadConfig({ ...BASE, CLUSTERS: 'node-1=127.0.0.1:50001' }).peers.length, 1)
})

t.test('refuses CLUSTERS without NODE_ID', async (t) => {
  t.equal(
    clustersError('node-2=127.0.0.1:50002,node-3=127.0.0.1:50003'),
    'CLUSTERS: does not list NODE_ID "node-1"',
  )
})

t.test('refuses duplicate ids and duplicate addresses', async (t) => {
  t.match(clustersError('node-1=127.0.0.1:50001,node-1=127.0.0.1:50002'), /^CLUSTERS: id "node-1" appears more than once, got "node-1=127\.0\.0\.1:50002"$/)
  t.match(clustersError('node-1=127.0.0.1:50001,node-2=127.0.0.1:50001'), /^CLUSTERS: address 127\.0\.0\.1:50001 appears more than once/)
})

t.test('refuses bad ports and port mismatch with RAFT_PORT', async (t) => {
  t.match(clustersError('node-1=127.0.0.1:abc'), /^CLUSTERS: port must be an integer 1\.\.65535, got "node-1=127\.0\.0\.1:abc"$/)
  t.match(clustersError('node-1=127.0.0.1:0'), /^CLUSTERS: port must be/)
  t.match(clustersError('node-1=127.0.0.1:65536'), /^CLUSTERS: port must be/)
  t.equal(
    clustersError('node-1=127.0.0.1:50009,node-2=127.0.0.1:50002'),
    'CLUSTERS: entry for node-1 has port 50009 but RAFT_PORT is 50001',
  )
})

t.test('refuses malformed entries', async (t) => {
  for (const bad of ['node-1', 'node-1=127.0.0.1', '=127.0.0.1:50001', 'node-1=127.0.0.1:50001,', 'node 1=h:50001', 'node-1=ho st:50001', 'node-1=:50001']) {
    t.match(clustersError(bad), /^CLUSTERS: /, bad)
  }
})
