// Cluster membership as the core sees it (Raft thesis §4.1): which nodes vote
// and which only receive the log. A 'config' log entry carries the whole new
// configuration, encoded here; the core owns this format.
import type { ClusterConfig, ConfChange, ConfChangeRefusal, NodeId } from './types.js'

const MAX_ID_LENGTH = 256

export function encodeConfig(c: ClusterConfig): string {
  return JSON.stringify({ voters: c.voters, learners: c.learners })
}

/** The configuration in a 'config' entry's data, or a short reason why it is not one. */
export function decodeConfig(data: string): ClusterConfig | string {
  let raw: unknown
  try {
    raw = JSON.parse(data)
  } catch {
    return 'config: not JSON'
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'config: not an object'
  const keys = Object.keys(raw).sort()
  if (keys.length !== 2 || keys[0] !== 'learners' || keys[1] !== 'voters') return 'config: must have exactly voters and learners'
  const { voters, learners } = raw as { voters: unknown; learners: unknown }
  const v = idList(voters, 'voters')
  if (typeof v === 'string') return v
  const l = idList(learners, 'learners')
  if (typeof l === 'string') return l
  return validateConfig({ voters: v, learners: l })
}

/** The same configuration, or why it is not a valid one (empty voters, duplicates, overlap). */
export function validateConfig(c: ClusterConfig): ClusterConfig | string {
  if (c.voters.length === 0) return 'config: no voters'
  const seen = new Set<NodeId>()
  for (const id of [...c.voters, ...c.learners]) {
    if (seen.has(id)) return `config: ${id} listed twice`
    seen.add(id)
  }
  return c
}

function idList(x: unknown, name: string): NodeId[] | string {
  if (!Array.isArray(x)) return `config: ${name} must be an array`
  for (const id of x) {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return `config: ${name} must hold node ids`
  }
  return x as NodeId[]
}

/** The configuration after one single-server change, or why the change does not apply. */
export function applyConfChange(c: ClusterConfig, change: ConfChange): ClusterConfig | ConfChangeRefusal {
  const isVoter = c.voters.includes(change.id)
  const isLearner = c.learners.includes(change.id)
  switch (change.type) {
    case 'add_learner':
      if (isVoter || isLearner) return 'already_member'
      return { voters: c.voters, learners: [...c.learners, change.id] }
    case 'promote':
      if (!isLearner) return 'not_learner'
      return { voters: [...c.voters, change.id], learners: c.learners.filter((id) => id !== change.id) }
    case 'remove':
      if (!isVoter && !isLearner) return 'not_member'
      if (isVoter && c.voters.length === 1) return 'no_voters'
      return { voters: c.voters.filter((id) => id !== change.id), learners: c.learners.filter((id) => id !== change.id) }
  }
}

export function isVoter(c: ClusterConfig, id: NodeId): boolean {
  return c.voters.includes(id)
}

export function isMember(c: ClusterConfig, id: NodeId): boolean {
  return c.voters.includes(id) || c.learners.includes(id)
}

export function quorumOf(c: ClusterConfig): number {
  return Math.floor(c.voters.length / 2) + 1
}
