// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and
// per package/module group. Pure apart from the caller reading the file.

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  hitCount?: number
  children?: number[]
}

export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface SelfTime {
  readonly name: string
  readonly group: string
  readonly ms: number
  /** Percent of all sampled time, idle included. */
  readonly pct: number
  /** Percent of busy time (idle excluded). */
  readonly busyPct: number
}

export interface ProfileSummary {
  readonly totalMs: number
  readonly idleMs: number
  readonly busyMs: number
  readonly functions: SelfTime[]
  readonly groups: SelfTime[]
}

/** Where a frame's code lives: a package, a folder of dist/ or src/, node internals, or a V8 pseudo-frame. */
export function groupOf(frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  if (url.startsWith('node:')) return 'node:internal'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    const pkg = rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '')
    return `npm:${pkg}`
  }
  const m = /\/(dist|src)\/([^/]+)\//.exec(url)
  if (m !== null) return `${m[1]}/${m[2]}`
  const top = /\/(dist|src)\/[^/]+$/.exec(url)
  if (top !== null) return `${top[1]}/`
  return url.split('/').slice(-2).join('/')
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length)
  const m = /\/((?:dist|src|bench)\/.*)$/.exec(url)
  if (m?.[1] !== undefined) return m[1]
  return url.replace(/^file:\/\//, '')
}

export function summarizeProfile(p: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  const samples = p.samples ?? []
  const deltas = p.timeDeltas ?? []
  if (samples.length > 0) {
    // timeDeltas[i] is the gap before sample i: the time up to the next sample belongs to sample i.
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] as number
      const dt = deltas[i + 1] ?? 0
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt))
    }
  } else {
    const total = p.endTime - p.startTime
    const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0)
    for (const n of p.nodes) selfUs.set(n.id, hits > 0 ? ((n.hitCount ?? 0) / hits) * total : 0)
  }
  const fn = new Map<string, { group: string; us: number }>()
  const grp = new Map<string, number>()
  let totalUs = 0
  let idleUs = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const f = node.callFrame
    totalUs += us
    if (f.functionName === '(idle)') idleUs += us
    const group = groupOf(f)
    const name = f.url === '' ? f.functionName : `${f.functionName === '' ? '(anonymous)' : f.functionName} ${shortUrl(f.url)}:${f.lineNumber + 1}`
    const cur = fn.get(name) ?? { group, us: 0 }
    cur.us += us
    fn.set(name, cur)
    grp.set(group, (grp.get(group) ?? 0) + us)
  }
  const busyUs = totalUs - idleUs
  const mk = (name: string, group: string, us: number): SelfTime => ({
    name,
    group,
    ms: Math.round(us / 100) / 10,
    pct: totalUs > 0 ? Math.round((us / totalUs) * 1000) / 10 : 0,
    busyPct: busyUs > 0 && name !== '(idle)' ? Math.round((us / busyUs) * 1000) / 10 : 0,
  })
  return {
    totalMs: Math.round(totalUs / 100) / 10,
    idleMs: Math.round(idleUs / 100) / 10,
    busyMs: Math.round(busyUs / 100) / 10,
    functions: [...fn.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([name, v]) => mk(name, v.group, v.us)),
    groups: [...grp.entries()].sort((a, b) => b[1] - a[1]).map(([g, us]) => mk(g, g, us)),
  }
}

/**
 * `requests`, when given, is how many requests the process served while it
 * was profiled: each line then also shows its sampled µs per request, which
 * compares across systems that ran at different rates (bench:profile's
 * inmem against a cluster node). Samples are wall time: a process that is
 * runnable but preempted is charged to whatever it runs when it resumes.
 */
export function formatSummary(s: ProfileSummary, topGroups = 15, requests = 0): string {
  const perReq = (ms: number): string => (requests > 0 ? `  ${((ms * 1000) / requests).toFixed(2).padStart(6)} µs/req` : '')
  const lines = [`sampled ${s.totalMs.toFixed(0)} ms: busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms${requests > 0 ? `; ${requests} requests, busy ${((s.busyMs * 1000) / requests).toFixed(1)} µs/req` : ''}`, '', 'self time by group (% of busy):']
  for (const g of s.groups.slice(0, topGroups)) lines.push(`  ${g.busyPct.toFixed(1).padStart(5)}%  ${g.ms.toFixed(0).padStart(7)} ms${perReq(g.ms)}  ${g.name}`)
  lines.push('', 'top functions by self time (% of busy):')
  for (const f of s.functions) lines.push(`  ${f.busyPct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms${perReq(f.ms)}  ${f.name}  [${f.group}]`)
  return lines.join('\n')
}
