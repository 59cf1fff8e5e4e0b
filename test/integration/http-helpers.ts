// Small HTTP helpers shared by the real-process tests.
import type { ProcCluster } from '../../scripts/cluster-proc.js'

export interface JsonReply {
  status: number
  body: Record<string, unknown>
  headers: Headers
}

export async function getJson(url: string, init: RequestInit = {}, timeoutMs = 5000): Promise<JsonReply> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers }
}

/** The fields of GET /cluster/status the tests read. */
export interface NodeStatus {
  node: string
  role: string
  term: number
  leader: string | null
  applied_index: number
  commit_index: number
  first_index: number
  last_index: number
  snapshot_index: number
  buckets: number
  state_hash?: string
  peers: { id: string; state: string; match_index: number; pending_snapshot?: number }[]
}

/** This node's status, or null while it cannot answer. */
export async function nodeStatus(c: ProcCluster, name: string, hash = false): Promise<NodeStatus | null> {
  try {
    const r = await getJson(`${c.url(name)}/cluster/status${hash ? '?hash=1' : ''}`)
    return r.status === 200 ? (r.body as unknown as NodeStatus) : null
  } catch {
    return null
  }
}

/** The leader and its term once every listed node agrees on both, else null. */
export async function agreedLeaderTerm(c: ProcCluster, names: readonly string[]): Promise<{ leader: string; term: number } | null> {
  const all = await Promise.all(names.map((n) => nodeStatus(c, n)))
  const first = all[0]
  if (first === null || first === undefined || first.leader === null) return null
  for (const s of all) if (s === null || s.leader !== first.leader || s.term !== first.term) return null
  return { leader: first.leader, term: first.term }
}

/** The leader's name once every listed node agrees on it and its term, else null. */
export async function agreedLeader(c: ProcCluster, names: readonly string[]): Promise<string | null> {
  return (await agreedLeaderTerm(c, names))?.leader ?? null
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
