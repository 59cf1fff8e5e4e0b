// Small TCP port helpers shared by scripts/cluster.mjs and scripts/cluster-proc.ts.
import net from 'node:net'

/**
 * True when `port` can be bound on `host` right now. Binding 127.0.0.1 also
 * fails when another process holds the port on 0.0.0.0, which is what we want.
 *
 * @param {number} port
 * @param {string} [host]
 * @returns {Promise<boolean>}
 */
export function isPortFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true))
    })
  })
}

/**
 * The subset of `ports` that is already taken on `host`.
 *
 * @param {readonly number[]} ports
 * @param {string} [host]
 * @returns {Promise<number[]>}
 */
export async function busyPorts(ports, host = '127.0.0.1') {
  const results = await Promise.all(ports.map((p) => isPortFree(p, host)))
  return ports.filter((_, i) => !results[i])
}
