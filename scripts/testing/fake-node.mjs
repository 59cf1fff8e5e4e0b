// A stand-in for dist/main.js used by the ops tests (test/unit/ops-*.test.ts)
// to exercise scripts/cluster.mjs and scripts/cluster-proc.ts without the real
// node. It reads the same environment, serves /healthz, /readyz,
// /cluster/status and /env on SERVER_PORT, and shuts down on SIGTERM/SIGINT.
//
// Knobs (environment): FAKE_EXIT_AFTER_MS=n exits with code 3 after n ms;
// FAKE_IGNORE_SIGTERM=1 ignores SIGTERM (to test SIGKILL escalation).
import http from 'node:http'

const id = process.env.NODE_ID ?? 'unknown'
const port = Number(process.env.SERVER_PORT)
const host = process.env.BIND_HOST ?? '127.0.0.1'

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  let body
  switch (url.pathname) {
    case '/healthz':
    case '/readyz':
      body = { ok: true }
      break
    case '/cluster/status':
      body = { node_id: id, role: id === 'node-1' ? 'leader' : 'follower', leader_id: 'node-1' }
      break
    case '/env':
      body = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^[A-Z_]+$/.test(k)))
      break
    default:
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"NOT_FOUND"}')
      return
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
})

server.listen(port, host, () => {
  process.stdout.write(`fake ${id} listening on http://${host}:${port} pid=${process.pid}\n`)
  process.stderr.write(`fake ${id} stderr line\n`)
})

function shutdown(signal) {
  process.stdout.write(`fake ${id} got ${signal}\n`)
  if (signal === 'SIGTERM' && process.env.FAKE_IGNORE_SIGTERM === '1') return
  server.close(() => process.exit(0))
  server.closeAllConnections()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))

const exitAfter = Number(process.env.FAKE_EXIT_AFTER_MS ?? '')
if (Number.isFinite(exitAfter) && exitAfter > 0) {
  setTimeout(() => {
    process.stderr.write(`fake ${id} crashing on purpose\n`)
    process.exit(3)
  }, exitAfter)
}
