// The single source of truth for the local cluster's per-node environment.
//
// `npm run cluster` (scripts/cluster.mjs), the real-process test helpers
// (scripts/cluster-proc.ts) and docker-compose.yml all describe the same
// cluster; test/unit/ops-compose-env.test.ts checks that compose agrees with
// this file, so change a value here and there together.
//
// Plain ESM JavaScript so that it runs without a build; types live in
// cluster-env.d.mts.

/** Dev-only shared secret. Anything reachable from outside needs its own. */
export const DEV_CLUSTER_SECRET = 'dev-cluster-secret-change-me'

/** node-N serves HTTP on HTTP_PORT_BASE + N and Raft on RAFT_PORT_BASE + N. */
export const HTTP_PORT_BASE = 20000
export const RAFT_PORT_BASE = 50000

/** Cluster sizes the scripts support (Raft wants an odd number). */
export const SUPPORTED_SIZES = Object.freeze([1, 3, 5])

/**
 * Values every node shares. Demo-friendly policy: a bucket of 10 tokens that
 * refills 10 per 60 s, so a handful of curl calls shows a 429.
 */
export const SHARED_ENV = Object.freeze({
  CLUSTER_SECRET: DEV_CLUSTER_SECRET,
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

/**
 * How every node process is started (here, by the test helpers and by the
 * Dockerfile's CMD and ENV; ops-dockerfile.test.ts checks they agree). At a
 * million client ids (`npm run bench:keys`) these took a node's RSS from
 * 520-680 MB to 330-410 MB with no loss of throughput:
 * - V8 grows the heap to 1.2x what a full GC left live, not up to 2-4x, so
 *   garbage from snapshots and request handling is collected sooner;
 * - glibc keeps 2 malloc arenas instead of 8 per core, which LevelDB's
 *   threadpool writes otherwise fragment.
 */
export const NODE_RUNTIME_ARGS = Object.freeze(['--heap-growing-percent=20'])
export const NODE_RUNTIME_ENV = Object.freeze({ MALLOC_ARENA_MAX: '2' })

/** @param {number} count */
export function nodeNames(count = 3) {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`cluster size must be a positive integer, got ${String(count)}`)
  }
  return Array.from({ length: count }, (_, i) => `node-${i + 1}`)
}

/** @param {string} name e.g. "node-2" → 2 */
export function nodeIndex(name) {
  const m = /^node-([1-9][0-9]*)$/.exec(name)
  if (!m || m[1] === undefined) throw new RangeError(`not a node name: ${name}`)
  return Number(m[1])
}

/**
 * Environment for every node of a local cluster.
 *
 * @param {import('./cluster-env.d.mts').ClusterEnvOptions} [options]
 * @returns {import('./cluster-env.d.mts').ClusterEnv}
 */
export function clusterEnv(options = {}) {
  const {
    host = '127.0.0.1',
    bindHost = '127.0.0.1',
    dataRoot = './data',
    nodes = 3,
    httpBase = HTTP_PORT_BASE,
    raftBase = RAFT_PORT_BASE,
    overrides = {},
    nodeOverrides = {},
  } = options
  const names = nodeNames(nodes)
  const hostOf = typeof host === 'function' ? host : () => host
  const root = dataRoot.length > 1 ? dataRoot.replace(/\/+$/, '') : dataRoot
  const clusters = names
    .map((name) => `${name}=${hostOf(name)}:${raftBase + nodeIndex(name)}`)
    .join(',')

  for (const name of Object.keys(nodeOverrides)) {
    if (!names.includes(name)) throw new RangeError(`nodeOverrides names unknown node ${name}`)
  }

  /** @type {Record<string, Record<string, string>>} */
  const out = {}
  for (const name of names) {
    const n = nodeIndex(name)
    out[name] = {
      NODE_ID: name,
      SERVER_PORT: String(httpBase + n),
      RAFT_PORT: String(raftBase + n),
      CLUSTERS: clusters,
      BIND_HOST: bindHost,
      DATA_DIR: `${root}/${name}`,
      ...SHARED_ENV,
      ...overrides,
      ...(nodeOverrides[name] ?? {}),
    }
  }
  return out
}

/**
 * Parse an etcd-style member list ("node-1=host:50001,...") into
 * [{ name, host, port }]. Used by tests and tooling, not by the node itself.
 *
 * @param {string} clusters
 */
export function parseClusters(clusters) {
  return clusters.split(',').map((item) => {
    const m = /^([^=]+)=(.+):([0-9]+)$/.exec(item.trim())
    if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) {
      throw new SyntaxError(`bad CLUSTERS item: ${JSON.stringify(item)}`)
    }
    return { name: m[1], host: m[2], port: Number(m[3]) }
  })
}
