// scripts/cluster-env.mjs is the one description of the local cluster that
// `npm run cluster`, the real-process tests and docker-compose.yml share.
import t from 'tap'
import {
  clusterEnv,
  DEV_CLUSTER_SECRET,
  nodeIndex,
  nodeNames,
  parseClusters,
  SHARED_ENV,
  type NodeEnv,
} from '../../scripts/cluster-env.mjs'
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js'

const node = (env: Record<string, NodeEnv>, name: string): NodeEnv => {
  const e = env[name]
  if (e === undefined) throw new Error(`no ${name}`)
  return e
}

t.test('default: three nodes on 2000N / 5000N with the shared demo policy', async (t) => {
  const env = clusterEnv()
  t.same(Object.keys(env), ['node-1', 'node-2', 'node-3'])
  const clusters = 'node-1=127.0.0.1:50001,node-2=127.0.0.1:50002,node-3=127.0.0.1:50003'
  for (const n of [1, 2, 3]) {
    t.same(node(env, `node-${n}`), {
      NODE_ID: `node-${n}`,
      SERVER_PORT: `2000${n}`,
      RAFT_PORT: `5000${n}`,
      CLUSTERS: clusters,
      BIND_HOST: '127.0.0.1',
      DATA_DIR: `./data/node-${n}`,
      CLUSTER_SECRET: 'dev-cluster-secret-change-me',
      RATE_LIMIT: '10',
      RATE_LIMIT_WINDOW_SEC: '60',
      RATE_LIMIT_BURST: '10',
      TICK_MS: '50',
      ELECTION_TICKS: '10',
      HEARTBEAT_TICKS: '2',
      REQUEST_TIMEOUT_MS: '2000',
      PEER_TIMEOUT_MS: '1000',
      FAIL_MODE: 'closed',
      LOG_LEVEL: 'info',
    })
  }
  t.equal(SHARED_ENV.CLUSTER_SECRET, DEV_CLUSTER_SECRET)
})

t.test('every node environment is one the config module accepts, and only its variables', async (t) => {
  for (const size of [1, 3, 5]) {
    const env = clusterEnv({ nodes: size })
    for (const [name, e] of Object.entries(env)) {
      t.same(Object.keys(e).filter((k) => !CONFIG_VARIABLES.includes(k)), [], `${name}: no unknown variable`)
      const cfg = loadConfig(e)
      t.equal(cfg.nodeId, name)
      t.equal(cfg.peers.length, size)
      t.equal(cfg.selfPeer.port, cfg.raftPort)
      t.same(cfg.policy, { refill: 10, windowMs: 60_000, burst: 10 })
    }
  }
})

t.test('five nodes add 20004-5 / 50004-5 and every port is distinct', async (t) => {
  const env = clusterEnv({ nodes: 5 })
  t.same(Object.keys(env), nodeNames(5))
  t.equal(node(env, 'node-4').SERVER_PORT, '20004')
  t.equal(node(env, 'node-5').RAFT_PORT, '50005')
  const members = parseClusters(node(env, 'node-1').CLUSTERS ?? '')
  t.same(members.map((m) => m.port), [50001, 50002, 50003, 50004, 50005])
  const ports = Object.values(env).flatMap((e) => [e.SERVER_PORT, e.RAFT_PORT])
  t.equal(new Set(ports).size, 10)
})

t.test('ports, hosts and data root follow the options', async (t) => {
  const env = clusterEnv({ httpBase: 31000, raftBase: 31100, dataRoot: '/tmp/x/', host: (n) => `${n}.svc`, bindHost: '0.0.0.0' })
  const e2 = node(env, 'node-2')
  t.equal(e2.SERVER_PORT, '31002')
  t.equal(e2.RAFT_PORT, '31102')
  t.equal(e2.DATA_DIR, '/tmp/x/node-2', 'trailing slash of the root is dropped')
  t.equal(e2.BIND_HOST, '0.0.0.0')
  t.equal(e2.CLUSTERS, 'node-1=node-1.svc:31101,node-2=node-2.svc:31102,node-3=node-3.svc:31103')
})

t.test('overrides apply to every node, nodeOverrides to one, after them', async (t) => {
  const env = clusterEnv({ overrides: { RATE_LIMIT: '100', TICK_MS: '10' }, nodeOverrides: { 'node-3': { TICK_MS: '20' } } })
  t.equal(node(env, 'node-1').RATE_LIMIT, '100')
  t.equal(node(env, 'node-1').TICK_MS, '10')
  t.equal(node(env, 'node-3').TICK_MS, '20')
  t.equal(node(env, 'node-3').RATE_LIMIT, '100')
  t.throws(() => clusterEnv({ nodeOverrides: { 'node-9': {} } }), /node-9/)
  t.equal(SHARED_ENV.RATE_LIMIT, '10', 'the shared defaults are not mutated')
})

t.test('names and CLUSTERS parsing reject nonsense', async (t) => {
  t.throws(() => nodeNames(0), RangeError)
  t.throws(() => nodeNames(2.5), RangeError)
  t.equal(nodeIndex('node-12'), 12)
  t.throws(() => nodeIndex('node-0'))
  t.throws(() => nodeIndex('n1'))
  t.throws(() => parseClusters('node-1=host'), SyntaxError)
  t.same(parseClusters('a=[::1]:5'), [{ name: 'a', host: '[::1]', port: 5 }])
})
