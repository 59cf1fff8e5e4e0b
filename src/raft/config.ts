// Cluster membership as the core sees it (Raft thesis §4.1): which nodes vote
// and which only receive the log. A 'config' log entry carries the whole new
// configuration, encoded here; the core owns this format.
import type { ClusterConfig, ConfChange, ConfChangeRefusal, NodeId } from './types.js'

const MAX_ID_LENGTH = 256
const MAX_ADDRESS_LENGTH = 512

export function encodeConfig(c: ClusterConfig): string {
  return JSON.stringify(c.addresses === undefined ? { voters: c.voters, learners: c.learners } : { voters: c.voters, learners: c.learners, addresses: c.addresses })
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
  const keys = Object.keys(raw).sort().join()
  if (keys !== 'learners,voters' && keys !== 'addresses,learners,voters') return 'config: must have voters, learners and optionally addresses'
  const { voters, learners, addresses } = raw as { voters: unknown; learners: unknown; addresses?: unknown }
  const v = idList(voters, 'voters')
  if (typeof v === 'string') return v
  const l = idList(learners, 'learners')
  if (typeof l === 'string') return l
  if (addresses === undefined) return validateConfig({ voters: v, learners: l })
  const a = addressMap(addresses)
  if (typeof a === 'string') return a
  return validateConfig({ voters: v, learners: l, addresses: a })
}

/** The same configuration, or why it is not a valid one (empty voters, duplicates, overlap, addresses not matching the members). */
export function validateConfig(c: ClusterConfig): ClusterConfig | string {
  if (c.voters.length === 0) return 'config: no voters'
  const seen = new Set<NodeId>()
  for (const id of [...c.voters, ...c.learners]) {
    if (seen.has(id)) return `config: ${id} listed twice`
    seen.add(id)
  }
  if (c.addresses !== undefined) {
    for (const id of seen) if (!Object.hasOwn(c.addresses, id)) return `config: no address for ${id}`
    for (const id of Object.keys(c.addresses)) if (!seen.has(id)) return `config: address for non-member ${id}`
  }
  return c
}

function addressMap(x: unknown): Record<NodeId, string> | string {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'config: addresses must be an object'
  const entries = Object.entries(x)
  for (const [, address] of entries) {
    if (typeof address !== 'string' || address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return 'config: addresses must be strings'
  }
  // fromEntries defines own properties: an id such as "__proto__" stays a plain key.
  return Object.fromEntries(entries) as Record<NodeId, string>
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
    case 'add_learner': {
      if (isVoter || isLearner) return 'already_member'
      const next = { voters: c.voters, learners: [...c.learners, change.id] }
      if (c.addresses === undefined) return next
      if (change.address === undefined) return 'address_required'
      return { ...next, addresses: { ...c.addresses, [change.id]: change.address } }
    }
    case 'promote':
      if (!isLearner) return 'not_learner'
      return withAddresses({ voters: [...c.voters, change.id], learners: c.learners.filter((id) => id !== change.id) }, c.addresses)
    case 'remove': {
      if (!isVoter && !isLearner) return 'not_member'
      if (isVoter && c.voters.length === 1) return 'no_voters'
      const next = { voters: c.voters.filter((id) => id !== change.id), learners: c.learners.filter((id) => id !== change.id) }
      if (c.addresses === undefined) return next
      const addresses = { ...c.addresses }
      delete addresses[change.id]
      return { ...next, addresses }
    }
  }
}

function withAddresses(c: ClusterConfig, addresses: ClusterConfig['addresses']): ClusterConfig {
  return addresses === undefined ? c : { ...c, addresses }
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
