// A RoundTracer that keeps events in preallocated typed arrays and writes them
// as text lines (`<monotonic ns> <event> <peer or -> <index>`) to one file at
// flush. The clock is CLOCK_MONOTONIC, the same in every process on a host, so
// the files of nodes on one machine line up.
import fs from 'node:fs'
import path from 'node:path'
import type { NodeId } from '../raft/types.js'
import { ROUND_EVENTS, type RoundEvent, type RoundTracer } from './round-trace.js'

/** About 20 s of a busy leader; later events are counted, not kept. */
const DEFAULT_CAPACITY = 1 << 20

export class RoundTraceFile implements RoundTracer {
  private readonly times: BigInt64Array
  private readonly events: Uint8Array
  private readonly peers: Uint16Array
  private readonly indexes: Float64Array
  private readonly peerIds = new Map<string, number>([['', 0]])
  private count = 0
  private dropped = 0

  constructor(
    readonly file: string,
    capacity = DEFAULT_CAPACITY,
    private readonly clock: () => bigint = process.hrtime.bigint,
  ) {
    this.times = new BigInt64Array(capacity)
    this.events = new Uint8Array(capacity)
    this.peers = new Uint16Array(capacity)
    this.indexes = new Float64Array(capacity)
  }

  /** `<dir>/<nodeId>.trace`. */
  static inDir(dir: string, nodeId: NodeId): RoundTraceFile {
    return new RoundTraceFile(path.join(dir, `${nodeId}.trace`))
  }

  record(event: RoundEvent, peer: NodeId | '', index: number): void {
    this.recordAt(this.clock(), event, peer, index)
  }

  /** This tracer's clock, in ns. */
  now(): bigint {
    return this.clock()
  }

  /** An event that happened at `time` (this tracer's clock), before now: the file is then out of time order. */
  recordAt(time: bigint, event: RoundEvent, peer: NodeId | '', index: number): void {
    const i = this.count
    if (i === this.times.length) {
      this.dropped++
      return
    }
    this.times[i] = time
    this.events[i] = ROUND_EVENTS.indexOf(event)
    let p = this.peerIds.get(peer)
    if (p === undefined) {
      p = this.peerIds.size
      this.peerIds.set(peer, p)
    }
    this.peers[i] = p
    this.indexes[i] = index
    this.count = i + 1
  }

  /** Events kept, and those past the capacity. */
  stats(): { readonly kept: number; readonly dropped: number } {
    return { kept: this.count, dropped: this.dropped }
  }

  /** Writes every kept event (synchronously: it also runs at process exit). */
  flush(): void {
    const names = [...this.peerIds.keys()].map((p) => (p === '' ? '-' : p))
    const lines: string[] = []
    for (let i = 0; i < this.count; i++) {
      lines.push(`${this.times[i]} ${ROUND_EVENTS[this.events[i] ?? 0]} ${names[this.peers[i] ?? 0]} ${this.indexes[i]}`)
    }
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    fs.writeFileSync(this.file, lines.length === 0 ? '' : `${lines.join('\n')}\n`)
  }
}
