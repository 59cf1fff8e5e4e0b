// Process configuration: environment variables validated with zod into one
// readonly Config. A bad value becomes a ConfigError with a single line naming
// the variable, so main.ts can print it and exit 1 before touching disk or network.
import { z } from 'zod'
import { HOST_PATTERN, NODE_ID_PATTERN, NODE_ID_RULE, parseHostPort } from './address.js'

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

export interface PeerAddress {
  readonly id: string
  /** As written in CLUSTERS (IPv6 keeps its brackets, so `http://${host}:${port}` works). */
  readonly host: string
  readonly port: number
}

export type FailMode = 'open' | 'closed'
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The default token-bucket policy: `refill` tokens per `windowMs`, capacity `burst`. */
export interface RatePolicy {
  readonly refill: number
  readonly windowMs: number
  readonly burst: number
}

export interface Config {
  readonly nodeId: string
  readonly serverPort: number
  readonly raftPort: number
  readonly bindHost: string
  readonly dataDir: string
  readonly clusterSecret: string
  /** Every member, this node included, in CLUSTERS order. */
  readonly peers: readonly PeerAddress[]
  readonly selfPeer: PeerAddress
  readonly policy: RatePolicy
  readonly tickMs: number
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly requestTimeoutMs: number
  readonly peerTimeoutMs: number
  readonly failMode: FailMode
  readonly logLevel: LogLevel
  readonly snapshotEntries: number
  readonly snapshotChunkBytes: number
  /** The data dir may have been lost: an empty one means rejoining a running cluster, not founding one. */
  readonly rejoin: boolean
  /** Testing only: as leader, exit right after an increment for this client id commits, before answering. */
  readonly exitAfterCommit: string | null
  /** Benchmarking only: where to write this node's replication-round timestamps at a graceful stop. */
  readonly roundTraceDir: string | null
}

export interface ConfigDocEntry {
  readonly name: string
  /** null: the variable is required. */
  readonly default: string | null
  readonly meaning: string
}

export const CONFIG_DOC: readonly ConfigDocEntry[] = [
  { name: 'NODE_ID', default: null, meaning: "this node's id, 1-64 of A-Z a-z 0-9 _ . -; must appear in CLUSTERS" },
  { name: 'SERVER_PORT', default: null, meaning: 'public HTTP port (rate, status, metrics routes)' },
  { name: 'RAFT_PORT', default: null, meaning: "peer (Raft) port; must equal this node's port in CLUSTERS" },
  { name: 'CLUSTERS', default: null, meaning: 'all members, this node included: `node-1=host:port,node-2=host:port,...` (Raft addresses, ids unique); once the log holds a membership change, its member list and addresses are used instead' },
  { name: 'BIND_HOST', default: '127.0.0.1', meaning: 'address both servers listen on (`0.0.0.0` in containers)' },
  { name: 'DATA_DIR', default: './data/<NODE_ID>', meaning: 'directory of the LevelDB Raft log' },
  { name: 'CLUSTER_SECRET', default: null, meaning: 'shared secret peers must present (at least 8 characters)' },
  { name: 'RATE_LIMIT', default: '10', meaning: 'tokens refilled per window (1..1000000)' },
  { name: 'RATE_LIMIT_WINDOW_SEC', default: '60', meaning: 'refill window in seconds (1..86400)' },
  { name: 'RATE_LIMIT_BURST', default: 'RATE_LIMIT', meaning: 'bucket capacity: most tokens one client can spend at once (1..1000000)' },
  { name: 'TICK_MS', default: '50', meaning: 'Raft logical clock tick in milliseconds' },
  { name: 'ELECTION_TICKS', default: '10', meaning: 'ticks without a leader before an election; must exceed 2 x HEARTBEAT_TICKS' },
  { name: 'HEARTBEAT_TICKS', default: '2', meaning: 'ticks between leader heartbeats' },
  { name: 'REQUEST_TIMEOUT_MS', default: '2000', meaning: 'how long an increment/check waits for the cluster before 503 NO_QUORUM' },
  { name: 'PEER_TIMEOUT_MS', default: '1000', meaning: 'peer connect and response timeout; a message stream silent this long is reopened' },
  { name: 'SNAPSHOT_ENTRIES', default: '20000', meaning: 'increments (and other log entries) applied after the last snapshot that trigger the next one (and compaction); at least half the number of buckets and request ids held is always used' },
  { name: 'SNAPSHOT_CHUNK_BYTES', default: '1048576', meaning: 'bytes per chunk when sending a snapshot to a follower' },
  { name: 'INITIAL_CLUSTER_STATE', default: 'new', meaning: '`new`: an empty data dir founds the cluster with the others; `existing`: an empty data dir (a replaced, wiped or newly added node) joins a running cluster and does not vote until it has caught up' },
  { name: 'FAILPOINT', default: '', meaning: 'testing only: `exit-after-commit:<client_id>` makes the leader exit (code 137) right after an increment for that client commits, before it answers' },
  { name: 'FAIL_MODE', default: 'closed', meaning: '`closed`: 503 when the cluster cannot answer; `open`: admit with 200 `{"result":true,"degraded":true}`' },
  { name: 'LOG_LEVEL', default: 'info', meaning: `log level: ${LOG_LEVELS.join(', ')}` },
  { name: 'ROUND_TRACE_DIR', default: '', meaning: 'benchmarking only: a directory where the node keeps a timestamp of each step of each replication round, and of its GC pauses, event-loop blocks over 2 ms and snapshots, and writes them to `<NODE_ID>.trace` when it stops gracefully (`npm run bench:rounds`); unset, nothing is recorded' },
]

const MAX_TOKENS = 1_000_000
const MAX_WINDOW_SEC = 86_400

function isIntegerIn(text: string, min: number, max: number): boolean {
  if (!/^-?\d+$/.test(text)) return false
  const n = Number(text)
  return n >= min && n <= max
}

// Env values are strings or absent; invalid_type therefore only ever means "absent".
const requiredString = () => z.string({ error: 'is required' })

const integer = (min: number, max: number) =>
  requiredString()
    .refine((s) => isIntegerIn(s, min, max), `expected an integer ${min}..${max}`)
    .transform(Number)

const port = () => integer(1, 65_535)

const nodeId = requiredString().regex(NODE_ID_PATTERN, `expected ${NODE_ID_RULE}`)

/** `id=host:port,...` → peers; each malformed piece becomes an issue quoting that piece. */
const clusters = requiredString().transform((text, ctx): PeerAddress[] => {
  const peers: PeerAddress[] = []
  for (const entry of text.split(',').map((s) => s.trim())) {
    const peer = parseEntry(entry, peers)
    if (typeof peer === 'string') {
      ctx.issues.push({ code: 'custom', message: peer, input: entry })
      return z.NEVER
    }
    peers.push(peer)
  }
  return peers
})

/** One `id=host:port` entry, or what is wrong with it. */
function parseEntry(entry: string, earlier: readonly PeerAddress[]): PeerAddress | string {
  const eq = entry.indexOf('=')
  if (eq < 1 || entry.lastIndexOf(':') < eq) return 'each entry must look like id=host:port'
  const id = entry.slice(0, eq)
  if (!NODE_ID_PATTERN.test(id)) return `id must be ${NODE_ID_RULE}`
  const address = parseHostPort(entry.slice(eq + 1))
  if (typeof address === 'string') return address
  if (earlier.some((p) => p.id === id)) return `id "${id}" appears more than once`
  if (earlier.some((p) => p.host === address.host && p.port === address.port)) return `address ${address.host}:${address.port} appears more than once`
  return { id, ...address }
}

const envSchema = z
  .object({
    NODE_ID: nodeId,
    SERVER_PORT: port(),
    RAFT_PORT: port(),
    CLUSTERS: clusters,
    BIND_HOST: z.string().regex(HOST_PATTERN, 'expected a hostname or IP address').default('127.0.0.1'),
    DATA_DIR: z.string().optional(),
    CLUSTER_SECRET: requiredString().min(8, 'must be at least 8 characters'),
    RATE_LIMIT: integer(1, MAX_TOKENS).default(10),
    RATE_LIMIT_WINDOW_SEC: integer(1, MAX_WINDOW_SEC).default(60),
    RATE_LIMIT_BURST: integer(1, MAX_TOKENS).optional(),
    TICK_MS: integer(1, 10_000).default(50),
    ELECTION_TICKS: integer(1, 10_000).default(10),
    HEARTBEAT_TICKS: integer(1, 10_000).default(2),
    REQUEST_TIMEOUT_MS: integer(1, 600_000).default(2000),
    PEER_TIMEOUT_MS: integer(1, 600_000).default(1000),
    SNAPSHOT_ENTRIES: integer(100, 100_000_000).default(20_000),
    SNAPSHOT_CHUNK_BYTES: integer(1024, 64 * 1024 * 1024).default(1024 * 1024),
    INITIAL_CLUSTER_STATE: z.enum(['new', 'existing'], { error: 'expected "new" or "existing"' }).default('new'),
    FAILPOINT: z.string().regex(/^exit-after-commit:.{1,256}$/, 'expected exit-after-commit:<client_id>').optional(),
    FAIL_MODE: z.enum(['closed', 'open'], { error: 'expected "closed" or "open"' }).default('closed'),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ROUND_TRACE_DIR: z.string().optional(),
  })
  // Runs only once every field is individually valid.
  .superRefine((v, ctx) => {
    const self = v.CLUSTERS.find((p) => p.id === v.NODE_ID)
    if (self === undefined) {
      ctx.addIssue({ code: 'custom', path: ['CLUSTERS'], message: `does not list NODE_ID "${v.NODE_ID}"` })
    } else if (self.port !== v.RAFT_PORT) {
      ctx.addIssue({ code: 'custom', path: ['CLUSTERS'], message: `entry for ${self.id} has port ${self.port} but RAFT_PORT is ${v.RAFT_PORT}` })
    }
    if (v.SERVER_PORT === v.RAFT_PORT) {
      ctx.addIssue({ code: 'custom', path: ['SERVER_PORT'], message: `must differ from RAFT_PORT (both ${v.RAFT_PORT})` })
    }
    if (v.ELECTION_TICKS <= v.HEARTBEAT_TICKS * 2) {
      ctx.addIssue({ code: 'custom', path: ['ELECTION_TICKS'], message: `must be greater than 2 x HEARTBEAT_TICKS (${v.HEARTBEAT_TICKS}), got ${v.ELECTION_TICKS}` })
    }
  })

/** The variables loadConfig reads, so tests can check CONFIG_DOC covers exactly these. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape)

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Blank counts as unset: compose files often carry `VAR=` placeholders.
  const raw: Record<string, string | undefined> = {}
  for (const name of CONFIG_VARIABLES) {
    const value = env[name]?.trim()
    raw[name] = value === '' ? undefined : value
  }
  const parsed = envSchema.safeParse(raw, { reportInput: true })
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]))
  const v = parsed.data
  // superRefine guarantees it exists.
  const selfPeer = v.CLUSTERS.find((p) => p.id === v.NODE_ID) as PeerAddress
  return Object.freeze({
    nodeId: v.NODE_ID,
    serverPort: v.SERVER_PORT,
    raftPort: v.RAFT_PORT,
    bindHost: v.BIND_HOST,
    dataDir: v.DATA_DIR ?? `./data/${v.NODE_ID}`,
    clusterSecret: v.CLUSTER_SECRET,
    peers: Object.freeze(v.CLUSTERS.map((p) => Object.freeze(p))),
    selfPeer,
    policy: Object.freeze({
      refill: v.RATE_LIMIT,
      windowMs: v.RATE_LIMIT_WINDOW_SEC * 1000,
      burst: v.RATE_LIMIT_BURST ?? v.RATE_LIMIT,
    }),
    tickMs: v.TICK_MS,
    electionTicks: v.ELECTION_TICKS,
    heartbeatTicks: v.HEARTBEAT_TICKS,
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    peerTimeoutMs: v.PEER_TIMEOUT_MS,
    failMode: v.FAIL_MODE,
    logLevel: v.LOG_LEVEL,
    snapshotEntries: v.SNAPSHOT_ENTRIES,
    snapshotChunkBytes: v.SNAPSHOT_CHUNK_BYTES,
    rejoin: v.INITIAL_CLUSTER_STATE === 'existing',
    exitAfterCommit: v.FAILPOINT === undefined ? null : v.FAILPOINT.slice('exit-after-commit:'.length),
    roundTraceDir: v.ROUND_TRACE_DIR ?? null,
  })
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'configuration: invalid'
  const name = String(issue.path[0] ?? 'configuration')
  const input = issue.input
  if (typeof input !== 'string') return `${name}: ${issue.message}`
  // Never echo the secret into logs; its length is enough to see what is wrong.
  const got = name === 'CLUSTER_SECRET' ? `${input.length} characters` : JSON.stringify(input)
  return `${name}: ${issue.message}, got ${got}`
}
