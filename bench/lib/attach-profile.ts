// CPU-profile a running node process (one this bench started) without
// restarting it: SIGUSR1 opens its inspector on 127.0.0.1:9229, and the V8
// Profiler is driven over the DevTools protocol. Unlike --cpu-prof, the
// profile covers only the chosen window (no start-up, no warm-up).
import { WebSocket } from 'undici'
import type { CpuProfile } from './cpuprofile.js'
import { sleep } from './procs.js'

export async function attachProfile(pid: number, seconds: number, inspectorPort = 9229): Promise<CpuProfile> {
  process.kill(pid, 'SIGUSR1')
  let wsUrl: string | undefined
  for (let i = 0; i < 50 && wsUrl === undefined; i++) {
    await sleep(100)
    try {
      const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[]
      wsUrl = list[0]?.webSocketDebuggerUrl
    } catch {
      // not listening yet
    }
  }
  if (wsUrl === undefined) throw new Error(`pid ${pid}: no inspector on 127.0.0.1:${inspectorPort}`)
  const ws = new WebSocket(wsUrl)
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve())
    ws.addEventListener('error', () => reject(new Error(`cannot open ${wsUrl ?? ''}`)))
  })
  let seq = 0
  const pending = new Map<number, (result: unknown) => void>()
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown }
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result)
  })
  const call = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve) => {
      const id = ++seq
      pending.set(id, resolve)
      ws.send(JSON.stringify({ id, method, params }))
    })
  const evaluate = async (expression: string): Promise<unknown> =>
    ((await call('Runtime.evaluate', { expression, returnByValue: true })) as { result?: { value?: unknown } }).result?.value
  try {
    // Port 9229 could belong to another process's inspector: make sure it is the one asked for.
    const seen = await evaluate('process.pid')
    if (seen !== pid) throw new Error(`the inspector on port ${inspectorPort} belongs to pid ${String(seen)}, not ${pid}`)
    await call('Profiler.enable')
    await call('Profiler.setSamplingInterval', { interval: 1000 })
    await call('Profiler.start')
    await sleep(seconds * 1000)
    const res = (await call('Profiler.stop')) as { profile: CpuProfile }
    await call('Profiler.disable')
    // Close the inspector again so the port is free. inspector.close() blocks until
    // no session is connected, so it runs on a timer, after this socket has gone.
    await evaluate("setTimeout(() => process.getBuiltinModule('node:inspector').close(), 200), 0")
    return res.profile
  } finally {
    ws.close()
  }
}
