import t from 'tap'
import { CONFIG_DOC, CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/config.js'

const BASE = {
  NODE_ID: 'node-1',
  SERVER_PORT: '20001',
  RAFT_PORT: '50001',
  CLUSTERS: 'node-1=127.0.0.1:50001,node-2=127.0.0.1:50002,node-3=127.0.0.1:50003',
  CLUSTER_SECRET: 'correct-horse',
}

/** The one-line ConfigError message for `env`; anything else yields a string no assertion expects. */
function errorOf(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env)
  } catch (e) {
    if (!(e instanceof ConfigError)) return `not a ConfigError: ${String(e)}`
    return e.message.includes('\n') ? `multi-line message: ${e.message}` : e.message
  }
  return '<loaded without error>'
}

t.test('defaults fill every optional variable', async (t) => {
  const c = loadConfig(BASE)
  t.equal(c.nodeId, 'node-1')
  t.equal(c.serverPort, 20001)
  t.equal(c.raftPort, 50001)
  t.equal(c.bindHost, '127.0.0.1')
  t.equal(c.dataDir, './data/node-1')
  t.equal(c.clusterSecret, 'correct-horse')
  t.same(c.policy, { refill: 10, windowMs: 60_000, burst: 10 })
  t.equal(c.tickMs, 50)
  t.equal(c.electionTicks, 10)
  t.equal(c.heartbeatTicks, 2)
  t.equal(c.requestTimeoutMs, 2000)
  t.equal(c.peerTimeoutMs, 1000)
  t.equal(c.failMode, 'closed')
  t.equal(c.logLevel, 'info')
  t.same(c.selfPeer, { id: 'node-1', host: '127.0.0.1', port: 50001 })
  t.equal(c.peers.length, 3)
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.policy) && Object.isFrozen(c.peers))
})

t.test('explicit values override defaults; burst defaults to RATE_LIMIT', async (t) => {
  const c = loadConfig({
    ...BASE,
    BIND_HOST: '0.0.0.0',
    DATA_DIR: '/var/lib/rl',
    RATE_LIMIT: '100',
    RATE_LIMIT_WINDOW_SEC: '10',
    TICK_MS: '20',
    ELECTION_TICKS: '20',
    HEARTBEAT_TICKS: '3',
    REQUEST_TIMEOUT_MS: '500',
    PEER_TIMEOUT_MS: '250',
    FAIL_MODE: 'open',
    LOG_LEVEL: 'debug',
    UNRELATED_VARIABLE: 'ignored',
  })
  t.equal(c.bindHost, '0.0.0.0')
  t.equal(c.dataDir, '/var/lib/rl')
  t.same(c.policy, { refill: 100, windowMs: 10_000, burst: 100 })
  t.equal(c.tickMs, 20)
  t.equal(c.electionTicks, 20)
  t.equal(c.heartbeatTicks, 3)
  t.equal(c.requestTimeoutMs, 500)
  t.equal(c.peerTimeoutMs, 250)
  t.equal(c.failMode, 'open')
  t.equal(c.logLevel, 'debug')
  t.equal(loadConfig({ ...BASE, RATE_LIMIT: '5', RATE_LIMIT_BURST: '50' }).policy.burst, 50)
})

t.test('blank values count as unset', async (t) => {
  const c = loadConfig({ ...BASE, RATE_LIMIT: '', FAIL_MODE: '  ' })
  t.equal(c.policy.refill, 10)
  t.equal(c.failMode, 'closed')
  t.match(errorOf({ ...BASE, NODE_ID: '' }), /^NODE_ID: is required$/)
})

t.test('each required variable, when missing, is named', async (t) => {
  for (const name of ['NODE_ID', 'SERVER_PORT', 'RAFT_PORT', 'CLUSTERS', 'CLUSTER_SECRET']) {
    t.equal(errorOf({ ...BASE, [name]: undefined }), `${name}: is required`)
  }
})

t.test('bad numbers name the variable, the range and the value', async (t) => {
  t.equal(errorOf({ ...BASE, RAFT_PORT: 'abc' }), 'RAFT_PORT: expected an integer 1..65535, got "abc"')
  t.equal(errorOf({ ...BASE, SERVER_PORT: '70000' }), 'SERVER_PORT: expected an integer 1..65535, got "70000"')
  t.match(errorOf({ ...BASE, RATE_LIMIT: '1.5' }), /^RATE_LIMIT: expected an integer 1\.\.1000000, got "1\.5"$/)
  t.match(errorOf({ ...BASE, RATE_LIMIT: '0' }), /^RATE_LIMIT: /)
  t.match(errorOf({ ...BASE, RATE_LIMIT_BURST: '0' }), /^RATE_LIMIT_BURST: .*got "0"/)
  t.match(errorOf({ ...BASE, RATE_LIMIT_BURST: '1000001' }), /^RATE_LIMIT_BURST: /)
  t.match(errorOf({ ...BASE, RATE_LIMIT_WINDOW_SEC: '86401' }), /^RATE_LIMIT_WINDOW_SEC: expected an integer 1\.\.86400/)
  t.match(errorOf({ ...BASE, TICK_MS: '-5' }), /^TICK_MS: /)
  t.match(errorOf({ ...BASE, REQUEST_TIMEOUT_MS: '1e3' }), /^REQUEST_TIMEOUT_MS: /)
  t.match(errorOf({ ...BASE, PEER_TIMEOUT_MS: 'soon' }), /^PEER_TIMEOUT_MS: /)
  t.match(errorOf({ ...BASE, HEARTBEAT_TICKS: 'x' }), /^HEARTBEAT_TICKS: /)
})

t.test('cross-variable rules', async (t) => {
  t.equal(
    errorOf({ ...BASE, ELECTION_TICKS: '4', HEARTBEAT_TICKS: '2' }),
    'ELECTION_TICKS: must be greater than 2 x HEARTBEAT_TICKS (2), got 4',
  )
  t.ok(loadConfig({ ...BASE, ELECTION_TICKS: '5', HEARTBEAT_TICKS: '2' }))
  t.match(errorOf({ ...BASE, SERVER_PORT: '50001' }), /^SERVER_PORT: must differ from RAFT_PORT/)
})

t.test('enumerations, ids, hosts and the secret', async (t) => {
  t.equal(errorOf({ ...BASE, FAIL_MODE: 'maybe' }), 'FAIL_MODE: expected "closed" or "open", got "maybe"')
  t.match(errorOf({ ...BASE, LOG_LEVEL: 'loud' }), /^LOG_LEVEL: expected one of .*info.*, got "loud"$/)
  t.match(errorOf({ ...BASE, NODE_ID: 'node 1' }), /^NODE_ID: expected 1-64 characters/)
  t.match(errorOf({ ...BASE, NODE_ID: 'n'.repeat(65) }), /^NODE_ID: /)
  t.match(errorOf({ ...BASE, BIND_HOST: 'local host' }), /^BIND_HOST: /)
  const secret = errorOf({ ...BASE, CLUSTER_SECRET: 'short' })
  t.equal(secret, 'CLUSTER_SECRET: must be at least 8 characters, got 5 characters')
  t.notMatch(secret, /short/, 'the secret itself is never echoed')
})

t.test('CONFIG_DOC documents exactly the variables loadConfig reads', async (t) => {
  t.same(CONFIG_DOC.map((d) => d.name).sort(), [...CONFIG_VARIABLES].sort())
  for (const d of CONFIG_DOC) t.ok(d.meaning.length > 0, `${d.name} has a meaning`)
  const required = CONFIG_DOC.filter((d) => d.default === null).map((d) => d.name).sort()
  t.same(required, ['CLUSTERS', 'CLUSTER_SECRET', 'NODE_ID', 'RAFT_PORT', 'SERVER_PORT'])
})
