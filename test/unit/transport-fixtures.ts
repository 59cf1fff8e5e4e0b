// Shared test data for the transport tests: one message of every type.
import type { Message } from '../../src/raft/types.js'
import { decodePeerFrame, encodePeerFrame } from '../../src/transport/message-codec.js'

/** A frame of messages only. */
export function encodeMessageBatch(messages: readonly Message[]): string {
  return encodePeerFrame({ messages, forwards: [], answers: [] })
}

/** The messages of a frame (which must carry nothing else for these tests). */
export function decodeMessageBatch(body: string): Message[] {
  return decodePeerFrame(body).messages
}

export function oneOfEachMessage(from = 'node-1', to = 'node-2'): Message[] {
  return [
    { type: 'prevote', from, to, term: 4, lastIndex: 10, lastTerm: 3 },
    { type: 'vote', from, to, term: 5, lastIndex: 10, lastTerm: 3 },
    { type: 'vote', from, to, term: 6, lastIndex: 11, lastTerm: 5, transfer: true },
    { type: 'timeout_now', from, to, term: 5 },
    { type: 'prevote_resp', from, to, term: 4, reject: true },
    { type: 'vote_resp', from, to, term: 5, reject: false },
    {
      type: 'append',
      from, to, term: 5,
      prevIndex: 10, prevTerm: 3, commit: 9,
      entries: [
        { index: 11, term: 5, kind: 'noop', data: '' },
        { index: 12, term: 5, kind: 'cmd', data: 'inc|client-é|1|"quoted"' },
        { index: 13, term: 5, kind: 'config', data: '{"voters":["node-1","node-2"],"learners":["node-3"]}' },
      ],
    },
    { type: 'append', from, to, term: 5, prevIndex: 12, prevTerm: 5, commit: 12, entries: [] },
    { type: 'append_resp', from, to, term: 5, reject: true, index: 10, hintIndex: 7, hintTerm: 2 },
    { type: 'heartbeat', from, to, term: 5, commit: 12, readSeq: 3 },
    { type: 'heartbeat_resp', from, to, term: 5, readSeq: 3 },
    { type: 'read_index', from, to, term: 5, ctx: 'read-42' },
    { type: 'read_index_resp', from, to, term: 5, ctx: 'read-42', index: 12, reject: false },
    { type: 'snapshot', from, to, term: 5, index: 400, snapTerm: 4, data: '{"v":2,"image":"é"}' },
    { type: 'snapshot', from, to, term: 5, index: 401, snapTerm: 4, data: '', config: { voters: ['node-1', 'node-2'], learners: ['node-3'] } },
  ]
}

/** A heartbeat whose readSeq carries a sequence number, to check ordering. */
export function numbered(seq: number, from = 'node-1', to = 'node-2'): Message {
  return { type: 'heartbeat', from, to, term: 1, commit: 0, readSeq: seq }
}
