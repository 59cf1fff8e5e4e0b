// The Dockerfile cannot be built on the development machines (no engine), so
// pin what matters statically, and run its HEALTHCHECK command for real.
import t from 'tap'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { NODE_RUNTIME_ARGS, NODE_RUNTIME_ENV } from '../../scripts/cluster-env.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

interface Instruction {
  op: string
  args: string
}

/** Instructions in order: continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
  return logical
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\S+)\s*(.*)$/.exec(l)
      return { op: (m?.[1] ?? '').toUpperCase(), args: (m?.[2] ?? '').replace(/\s+/g, ' ') }
    })
}

/** .dockerignore semantics for the patterns used here: last match wins. */
function ignored(rel: string, patterns: readonly string[]): boolean {
  let out = false
  for (const raw of patterns) {
    const neg = raw.startsWith('!')
    const p = (neg ? raw.slice(1) : raw).replace(/\/$/, '')
    const hit = p === '*' || rel === p || rel.startsWith(`${p}/`)
    if (hit) out = !neg
  }
  return out
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
const ins = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))
const ops = (op: string) => ins.filter((i) => i.op === op)
const stages = ops('FROM').map((i) => i.args)
const runtimeStart = ins.findIndex((i) => i.op === 'FROM' && / AS runtime$/i.test(i.args))
const runtime = ins.slice(runtimeStart)
const healthArgs = ops('HEALTHCHECK')[0]?.args ?? ''
const healthCmd = JSON.parse(healthArgs.slice(healthArgs.indexOf('CMD ') + 4)) as string[]

t.test('two stages on node:24-bookworm-slim: build, then a lean runtime', async (t) => {
  t.match(ops('ARG')[0]?.args, /^NODE_IMAGE=node:24-bookworm-slim$/)
  t.same(stages, ['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime'])
  const buildRuns = ins.slice(0, runtimeStart).filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ')
  t.match(buildRuns, /npm ci/)
  t.match(buildRuns, /npm run build && npm prune --omit=dev/)
  const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args)
  t.same(
    copies.map((c) => c.split(' ')[1]),
    ['/app/package.json', '/app/node_modules', '/app/dist'],
    'runtime takes package.json, pruned node_modules and dist from the build stage only',
  )
  for (const c of copies) t.match(c, /^--from=build /)
})

t.test('runtime: non-root, /data volume owned by node, env, ports, signals', async (t) => {
  const env = runtime.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ')
  const runtimeEnv = Object.entries(NODE_RUNTIME_ENV).map(([k, v]) => `${k}=${v}`)
  for (const kv of ['NODE_ENV=production', 'BIND_HOST=0.0.0.0', 'DATA_DIR=/data', ...runtimeEnv]) t.match(env, kv)
  const chown = runtime.findIndex((i) => i.op === 'RUN' && /chown node:node \/data/.test(i.args))
  const volume = runtime.findIndex((i) => i.op === 'VOLUME')
  t.ok(chown >= 0 && chown < volume, '/data is chowned before VOLUME, so new volumes belong to node')
  t.equal(runtime[volume]?.args, '/data')
  t.same(ops('USER').map((i) => i.args), ['node'])
  const exposed = ops('EXPOSE').flatMap((i) => i.args.split(' '))
  for (const p of ['20001', '20002', '20003', '50001', '50002', '50003']) t.ok(exposed.includes(p), `EXPOSE ${p}`)
  t.same(ops('STOPSIGNAL').map((i) => i.args), ['SIGTERM'])
  t.same(JSON.parse(ops('CMD').at(-1)?.args ?? 'null'), ['node', ...NODE_RUNTIME_ARGS, 'dist/main.js'], 'started as the local cluster starts its nodes')
  t.equal(pkg.scripts.start, `${Object.entries(NODE_RUNTIME_ENV).map(([k, v]) => `${k}=${v} `).join('')}node ${NODE_RUNTIME_ARGS.join(' ')} dist/main.js`, 'and as npm start does')
})

t.test('the build context holds exactly what the Dockerfile copies', async (t) => {
  const patterns = fs
    .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const sources = ops('COPY')
    .filter((i) => !i.args.startsWith('--from'))
    .flatMap((i) => i.args.split(' ').slice(0, -1))
  t.same(sources.sort(), ['package-lock.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json'])
  for (const s of sources) {
    t.ok(fs.existsSync(path.join(ROOT, s)), `${s} exists`)
    t.notOk(ignored(s, patterns), `${s} is sent to the daemon`)
  }
  for (const s of ['node_modules', 'dist', 'data', '.git', '.tap', 'test']) t.ok(ignored(s, patterns), `${s} is not sent`)
  t.notOk(ignored('src/main.ts', patterns))
})

t.test('HEALTHCHECK asks /readyz with node itself, same command as compose', async (t) => {
  t.match(healthArgs, /--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD /)
  t.equal(healthCmd[0], 'node')
  const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { healthcheck: { test: string[] } }>
  }
  t.same(compose.services['node-1']?.healthcheck.test.slice(1), healthCmd, 'compose repeats the image check')

  let status = 200
  let asked = ''
  const server = http.createServer((req, res) => {
    asked = req.url ?? ''
    res.writeHead(status).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const check = (p: number) =>
    new Promise<number | null>((resolve) => {
      const env = { ...process.env, SERVER_PORT: String(p) }
      spawn(process.execPath, healthCmd.slice(1), { env, stdio: 'ignore' }).on('exit', (code) => resolve(code))
    })
  t.equal(await check(port), 0, 'ready → healthy')
  t.equal(asked, '/readyz')
  status = 503
  t.equal(await check(port), 1, '503 → unhealthy')
  await new Promise((r) => server.close(r))
  t.equal(await check(port), 1, 'connection refused → unhealthy')
})
