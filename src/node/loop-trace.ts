// Event-loop blocks into the round trace (ROUND_TRACE_DIR only): a 1 ms
// interval timer that fires late by more than BLOCK_MS records the turn that
// held it up, from when it was due, so `npm run bench:rounds` can tell a
// leader busy with its own turn from one waiting on a write.
import type { RoundTraceFile } from './round-trace-file.js'

const INTERVAL_MS = 1
/** Lateness below this is ordinary timer jitter, not a block. */
const BLOCK_MS = 2

/** Starts recording; the returned function stops it. */
export function traceLoopBlocks(tracer: RoundTraceFile): () => void {
  const intervalNs = BigInt(INTERVAL_MS * 1e6)
  const blockNs = BigInt(BLOCK_MS * 1e6)
  let last = tracer.now()
  const timer = setInterval(() => {
    const now = tracer.now()
    const lateNs = now - last - intervalNs
    if (lateNs > blockNs) tracer.recordAt(last + intervalNs, 'loop_blocked', '', Number(lateNs / 1000n))
    last = now
  }, INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
