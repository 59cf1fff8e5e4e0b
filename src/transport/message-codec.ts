// Wire encoding of a message-stream frame: a batch of Raft messages, and the
// forwarded increments and their answers that ride along. This is the only
// file that knows the format, so a binary codec can replace it without
// touching the callers.
//
// Format v1 (JSON, positional to stay compact): {"v":1,"m":[tuple, ...]}
// Every tuple starts [typeCode, from, to, term, ...] followed by the fields of
// its type in the order of the table below. Booleans are 0/1. An append's
// entries are one flat array, 4 slots per entry: index, term, kind (0 noop,
// 1 cmd, 2 config), data.
//
// Decoding is hand-written rather than a zod schema: it runs for every
// heartbeat and append on every node, and these checks cost almost nothing.
import { RateLimiterError } from '../errors.js'
import { decodeConfig, encodeConfig } from '../raft/config.js'
import type { Entry, EntryKind, Message, MessageType, NodeId } from '../raft/types.js'
import type { IncrementInput } from '../service.js'
import { decodeForwardRequest, forwardInputsJson } from './forward-codec.js'

const FORMAT_VERSION = 1
const MAX_NODE_ID_LENGTH = 256
const ENTRY_SLOTS = 4
const KIND_CODES = { noop: 0, cmd: 1, config: 2 } as const satisfies Record<EntryKind, number>

const TYPE_CODES = {
  prevote: 0,
  vote: 1,
  prevote_resp: 2,
  vote_resp: 3,
  append: 4,
  append_resp: 5,
  heartbeat: 6,
  heartbeat_resp: 7,
  read_index: 8,
  read_index_resp: 9,
  timeout_now: 10,
  snapshot: 11,
} as const satisfies Record<MessageType, number>

/** Tuple length per type code, header (code, from, to, term) included. */
const TUPLE_LENGTHS: readonly number[] = [6, 7, 5, 5, 8, 8, 6, 5, 5, 7, 4, 8]

const bit = (b: boolean): 0 | 1 => (b ? 1 : 0)

function encodeEntries(entries: readonly Entry[]): unknown[] {
  const flat: unknown[] = new Array(entries.length * ENTRY_SLOTS)
  let i = 0
  for (const e of entries) {
    flat[i++] = e.index
    flat[i++] = e.term
    flat[i++] = KIND_CODES[e.kind]
    flat[i++] = e.data
  }
  return flat
}

function encodeMessage(m: Message): unknown[] {
  const head = [TYPE_CODES[m.type], m.from, m.to, m.term]
  switch (m.type) {
    case 'prevote':
      return [...head, m.lastIndex, m.lastTerm]
    case 'vote':
      return [...head, m.lastIndex, m.lastTerm, bit(m.transfer === true)]
    case 'timeout_now':
      return head
    case 'prevote_resp':
    case 'vote_resp':
      return [...head, bit(m.reject)]
    case 'append':
      return [...head, m.prevIndex, m.prevTerm, m.commit, encodeEntries(m.entries)]
    case 'append_resp':
      return [...head, bit(m.reject), m.index, m.hintIndex, m.hintTerm]
    case 'heartbeat':
      return [...head, m.commit, m.readSeq]
    case 'heartbeat_resp':
      return [...head, m.readSeq]
    case 'read_index':
      return [...head, m.ctx]
    case 'read_index_resp':
      return [...head, m.ctx, m.index, bit(m.reject)]
    case 'snapshot':
      // Normally sent in chunks on its own route (snapshot-chunks.ts); small ones fit here too.
      // The config slot is '' when the snapshot carries none.
      return [...head, m.index, m.snapTerm, m.data, m.config === undefined ? '' : encodeConfig(m.config)]
  }
}

/** Forwarded increments on a message stream (peer-link.ts): `id` pairs them with their answer. */
export interface StreamForward {
  readonly id: number
  readonly inputs: readonly IncrementInput[]
}

/** The leader's answer to a StreamForward: outcomes are checked against the request by its sender. */
export interface StreamAnswer {
  readonly id: number
  readonly outcomes: unknown
}

/** What one frame on a message stream carries. */
export interface PeerFrame {
  readonly messages: readonly Message[]
  readonly forwards: readonly StreamForward[]
  readonly answers: readonly StreamAnswer[]
}

/**
 * A stream frame: the messages, in order, plus `"f": [[id, inputs], ...]`
 * and `"a": [[id, outcomes], ...]` when forwards or answers ride along.
 */
export function encodePeerFrame(frame: PeerFrame): string {
  const body: { v: number; m: unknown[]; f?: unknown[]; a?: unknown[] } = { v: FORMAT_VERSION, m: frame.messages.map(encodeMessage) }
  if (frame.forwards.length > 0) body.f = frame.forwards.map((f) => [f.id, forwardInputsJson(f.inputs)])
  if (frame.answers.length > 0) body.a = frame.answers.map((a) => [a.id, a.outcomes])
  return JSON.stringify(body)
}

// ---- decoding: readers throw a SlotError; the location is prefixed on the way
// out, so the success path builds no strings ----

class SlotError extends Error {}

function fail(problem: string): never {
  throw new SlotError(problem)
}

function nat(t: readonly unknown[], i: number): number {
  const v = t[i]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`slot ${i} must be a non-negative integer`)
  return v
}

function flag(t: readonly unknown[], i: number): boolean {
  const v = t[i]
  if (v !== 0 && v !== 1) fail(`slot ${i} must be 0 or 1`)
  return v === 1
}

function str(t: readonly unknown[], i: number): string {
  const v = t[i]
  if (typeof v !== 'string') fail(`slot ${i} must be a string`)
  return v
}

function nodeId(t: readonly unknown[], i: number): NodeId {
  const v = t[i]
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NODE_ID_LENGTH) {
    fail(`slot ${i} must be a node id of 1 to ${MAX_NODE_ID_LENGTH} characters`)
  }
  return v
}

function entryKind(t: readonly unknown[], i: number): EntryKind {
  const v = t[i]
  if (v === 0) return 'noop'
  if (v === 1) return 'cmd'
  if (v === 2) return 'config'
  return fail(`slot ${i} must be an entry kind (0 noop, 1 cmd, 2 config)`)
}

function decodeEntries(raw: unknown): Entry[] {
  if (!Array.isArray(raw) || raw.length % ENTRY_SLOTS !== 0) fail(`entries must be a flat array of ${ENTRY_SLOTS} slots per entry`)
  const entries: Entry[] = new Array(raw.length / ENTRY_SLOTS)
  for (let i = 0; i < raw.length; i += ENTRY_SLOTS) {
    entries[i / ENTRY_SLOTS] = { index: nat(raw, i), term: nat(raw, i + 1), kind: entryKind(raw, i + 2), data: str(raw, i + 3) }
  }
  return entries
}

function decodeMessage(raw: unknown): Message {
  if (!Array.isArray(raw)) fail('must be an array')
  const code = raw[0]
  const expectedLength = typeof code === 'number' ? TUPLE_LENGTHS[code] : undefined
  if (expectedLength === undefined) return fail(`unknown message type ${JSON.stringify(code)}`)
  if (raw.length !== expectedLength) fail(`expected ${expectedLength} slots, got ${raw.length}`)
  const from = nodeId(raw, 1)
  const to = nodeId(raw, 2)
  const term = nat(raw, 3)
  switch (code) {
    case TYPE_CODES.prevote:
      return { type: 'prevote', from, to, term, lastIndex: nat(raw, 4), lastTerm: nat(raw, 5) }
    case TYPE_CODES.vote:
      return flag(raw, 6)
        ? { type: 'vote', from, to, term, lastIndex: nat(raw, 4), lastTerm: nat(raw, 5), transfer: true }
        : { type: 'vote', from, to, term, lastIndex: nat(raw, 4), lastTerm: nat(raw, 5) }
    case TYPE_CODES.timeout_now:
      return { type: 'timeout_now', from, to, term }
    case TYPE_CODES.prevote_resp:
    case TYPE_CODES.vote_resp:
      return { type: code === TYPE_CODES.vote_resp ? 'vote_resp' : 'prevote_resp', from, to, term, reject: flag(raw, 4) }
    case TYPE_CODES.append:
      return {
        type: 'append',
        from, to, term,
        prevIndex: nat(raw, 4),
        prevTerm: nat(raw, 5),
        commit: nat(raw, 6),
        entries: decodeEntries(raw[7]),
      }
    case TYPE_CODES.append_resp:
      return {
        type: 'append_resp',
        from, to, term,
        reject: flag(raw, 4),
        index: nat(raw, 5),
        hintIndex: nat(raw, 6),
        hintTerm: nat(raw, 7),
      }
    case TYPE_CODES.heartbeat:
      return { type: 'heartbeat', from, to, term, commit: nat(raw, 4), readSeq: nat(raw, 5) }
    case TYPE_CODES.heartbeat_resp:
      return { type: 'heartbeat_resp', from, to, term, readSeq: nat(raw, 4) }
    case TYPE_CODES.read_index:
      return { type: 'read_index', from, to, term, ctx: str(raw, 4) }
    case TYPE_CODES.snapshot: {
      const m: Message = { type: 'snapshot', from, to, term, index: nat(raw, 4), snapTerm: nat(raw, 5), data: str(raw, 6) }
      const rawConfig = str(raw, 7)
      if (rawConfig === '') return m
      const config = decodeConfig(rawConfig)
      if (typeof config === 'string') fail(`slot 7: ${config}`)
      return { ...m, config }
    }
    default: // TYPE_CODES.read_index_resp: the only code left with a known tuple length
      return { type: 'read_index_resp', from, to, term, ctx: str(raw, 4), index: nat(raw, 5), reject: flag(raw, 6) }
  }
}

function invalid(where: string, problem: string): RateLimiterError {
  return new RateLimiterError('INVALID_PEER_MESSAGE', `${where}: ${problem}`)
}

/** Parses and validates a frame; throws RateLimiterError INVALID_PEER_MESSAGE on anything malformed. */
export function decodePeerFrame(body: string): PeerFrame & { readonly messages: Message[] } {
  const parsed = parseBatch(body)
  const messages = decodeMessages(parsed)
  const { f, a } = parsed as { f?: unknown; a?: unknown }
  return { messages, forwards: f === undefined ? [] : decodeForwards(f), answers: a === undefined ? [] : decodeAnswers(a) }
}

function parseBatch(body: string): object {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw invalid('batch', 'body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('batch', 'must be an object')
  return parsed
}

function idOf(pair: unknown, what: string, n: number): [number, unknown] {
  if (!Array.isArray(pair) || pair.length !== 2 || !Number.isSafeInteger(pair[0]) || (pair[0] as number) < 0) {
    throw invalid(`${what} ${n}`, 'must be [id, body] with a natural id')
  }
  return [pair[0] as number, pair[1]]
}

function decodeForwards(raw: unknown): StreamForward[] {
  if (!Array.isArray(raw)) throw invalid('batch', 'f must be an array of forwards')
  return raw.map((pair, n) => {
    const [id, inputs] = idOf(pair, 'forward', n)
    return { id, inputs: decodeForwardRequest(inputs) }
  })
}

function decodeAnswers(raw: unknown): StreamAnswer[] {
  if (!Array.isArray(raw)) throw invalid('batch', 'a must be an array of answers')
  return raw.map((pair, n) => {
    const [id, outcomes] = idOf(pair, 'answer', n)
    return { id, outcomes }
  })
}

function decodeMessages(parsed: object): Message[] {
  const { v, m } = parsed as { v?: unknown; m?: unknown }
  if (v !== FORMAT_VERSION) throw invalid('batch', `unsupported format version ${JSON.stringify(v)}`)
  if (!Array.isArray(m)) throw invalid('batch', 'm must be an array of messages')
  const messages: Message[] = new Array(m.length)
  let n = 0
  try {
    for (; n < m.length; n++) messages[n] = decodeMessage(m[n])
  } catch (err) {
    if (err instanceof SlotError) throw invalid(`message ${n}`, err.message)
    throw err
  }
  return messages
}
