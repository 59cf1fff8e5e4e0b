// Garbage-collection pauses into the round trace (ROUND_TRACE_DIR only), so
// `npm run bench:rounds` can set the leader's stalls against them. The
// observer hears of a pause after it ended; it is recorded at its start.
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import type { RoundTraceFile } from './round-trace-file.js'

/** Starts recording; the returned function stops it. */
export function traceGcPauses(tracer: RoundTraceFile): () => void {
  const observer = new PerformanceObserver((list) => {
    // One pair of readings maps performance.now() onto the tracer's clock.
    const nowNs = tracer.now()
    const nowMs = performance.now()
    for (const e of list.getEntries()) {
      const startNs = nowNs - BigInt(Math.round((nowMs - e.startTime) * 1e6))
      tracer.recordAt(startNs, isScavenge(e) ? 'gc_minor' : 'gc_major', '', Math.round(e.duration * 1000))
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return () => observer.disconnect()
}

function isScavenge(e: PerformanceEntry): boolean {
  const detail: unknown = (e as { readonly detail?: unknown }).detail
  return typeof detail === 'object' && detail !== null && (detail as { readonly kind?: unknown }).kind === constants.NODE_PERFORMANCE_GC_MINOR
}
