// docker-compose.yml must describe the same cluster as scripts/cluster-env.mjs
// (what `npm run cluster` starts), except for three documented differences:
// CLUSTERS names peers by service host name, BIND_HOST is 0.0.0.0, DATA_DIR is
// the /data volume.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { clusterEnv, nodeIndex, parseClusters, type NodeEnv } from '../../scripts/cluster-env.mjs'
import { loadConfig } from '../../src/config.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml')
const DIFFERENT = new Set(['CLUSTERS', 'BIND_HOST', 'DATA_DIR'])

type Service = Record<string, unknown>

function parseCompose(text: string): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  const doc: unknown = YAML.parse(text, { merge: true })
  if (typeof doc !== 'object' || doc === null) throw new Error('compose file is not a mapping')
  const { services, volumes } = doc as { services?: Record<string, Service>; volumes?: Record<string, unknown> }
  return { services: services ?? {}, volumes: volumes ?? {} }
}

/** Compose allows `environment` as a mapping or as a list of KEY=VALUE. */
function envOf(service: Service | undefined): NodeEnv {
  const raw = service?.environment
  const out: NodeEnv = {}
  const put = (k: string, v: unknown) => {
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${k} has no literal value (${String(v)})`)
    out[k] = String(v)
  }
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const s = String(item)
      const eq = s.indexOf('=')
      put(eq < 0 ? s : s.slice(0, eq), eq < 0 ? undefined : s.slice(eq + 1))
    }
  } else if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw)) put(k, v)
  }
  return out
}

const composeText = fs.readFileSync(COMPOSE_FILE, 'utf8')
const compose = parseCompose(composeText)
const local = clusterEnv()
const names = Object.keys(local)

t.test('compose has exactly the services of the local cluster', async (t) => {
  t.same(Object.keys(compose.services).sort(), [...names].sort())
})

for (const name of names) {
  t.test(`${name}: environment matches clusterEnv() but for CLUSTERS, BIND_HOST, DATA_DIR`, async (t) => {
    const want = local[name] as NodeEnv
    const got = envOf(compose.services[name])
    t.same(Object.keys(got).sort(), Object.keys(want).sort(), 'same variables')
    for (const [key, value] of Object.entries(want)) {
      if (!DIFFERENT.has(key)) t.equal(got[key], value, `${key} equal`)
    }

    // The three documented differences, each pinned.
    t.equal(want.BIND_HOST, '127.0.0.1')
    t.equal(got.BIND_HOST, '0.0.0.0', 'containers listen on every interface')
    t.equal(want.DATA_DIR, `./data/${name}`)
    t.equal(got.DATA_DIR, '/data', 'data lives on the volume')
    const members = parseClusters(got.CLUSTERS ?? '')
    for (const m of members) {
      t.equal(m.host, m.name, `CLUSTERS reaches ${m.name} by its service name`)
      t.equal((compose.services[m.name] ?? {}).hostname, m.name, `service ${m.name} has that hostname`)
    }
    const asLocal = members.map((m) => `${m.name}=127.0.0.1:${m.port}`).join(',')
    t.equal(asLocal, want.CLUSTERS, 'CLUSTERS equal once host names map to 127.0.0.1')

    // And the result is a configuration the node accepts.
    const cfg = loadConfig(got)
    t.equal(cfg.nodeId, name)
    t.equal(cfg.selfPeer.port, cfg.raftPort)
  })

  t.test(`${name}: ports, volume, healthcheck, restart policy`, async (t) => {
    const svc = compose.services[name] ?? {}
    const env = local[name] as NodeEnv
    const n = nodeIndex(name)
    t.equal(env.SERVER_PORT, String(20000 + n))
    t.equal(env.RAFT_PORT, String(50000 + n))
    t.same(svc.ports, [`${env.SERVER_PORT}:${env.SERVER_PORT}`, `${env.RAFT_PORT}:${env.RAFT_PORT}`])
    t.equal(svc.container_name, name)
    t.equal(svc.hostname, name)
    t.same(svc.volumes, [`${name}-data:/data`])
    t.ok(Object.hasOwn(compose.volumes, `${name}-data`), `named volume ${name}-data declared`)
    t.equal(svc.restart, 'unless-stopped')
    t.match(String(svc.stop_grace_period), /^\d+s$/)
    t.match(svc.build, { context: '.', dockerfile: 'Dockerfile' })
    const hc = svc.healthcheck as { test?: unknown } | undefined
    t.ok(Array.isArray(hc?.test), 'healthcheck test is exec form')
    t.match((hc?.test as string[]).join(' '), /\/readyz/, 'healthcheck asks /readyz')
  })
}

// The healthcheck command itself is run in ops-dockerfile.test.ts.

const haveCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).error === undefined
const noCompose = 'docker-compose is not on PATH (apt-get install -y docker-compose to run this check)'

t.test('docker-compose config accepts the file and keeps the environment', { skip: haveCompose ? false : noCompose }, async (t) => {
  const res = spawnSync('docker-compose', ['-f', COMPOSE_FILE, 'config'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(res.status, 0, `docker-compose config exits 0\n${res.stderr}`)
  const normalized = parseCompose(res.stdout)
  t.same(Object.keys(normalized.services).sort(), [...names].sort())
  for (const name of names) {
    t.same(envOf(normalized.services[name]), envOf(compose.services[name]), `${name}: same environment after normalization`)
  }
})
