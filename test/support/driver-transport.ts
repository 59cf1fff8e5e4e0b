// A Transport for drivers in unit tests: messages go wherever `send` puts
// them (nowhere by default); forwards and snapshot streams are not used.
import type { Message } from '../../src/raft/types.js'
import type { ForwardOutcome, Transport } from '../../src/transport/port.js'

export function testTransport(send: (messages: readonly Message[]) => void = () => {}): Transport {
  return {
    send,
    forward: (): Promise<ForwardOutcome[]> => Promise.reject(new Error('not used')),
    sendSnapshot: () => Promise.reject(new Error('not used')),
    setPeers: () => {},
    close: async () => {},
  }
}
