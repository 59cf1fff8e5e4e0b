// Frames each cluster node sent to each peer during a measurement, from the
// nodes' own /metrics (ratelimiter_peer_frames_sent_total): what a change to
// batching or forwarding did to the peer traffic, without a profiler.

const SERIES = /^ratelimiter_peer_frames_sent_total\{peer="([^"]+)"\} (\d+(?:\.\d+)?)$/gm

/** Frames sent so far, keyed `from→to`. */
export type FrameCounts = Record<string, number>

export function parseFrameCounts(from: string, metricsText: string): FrameCounts {
  const counts: FrameCounts = {}
  for (const m of metricsText.matchAll(SERIES)) counts[`${from}→${m[1]}`] = Number(m[2])
  return counts
}

/** Scrapes every node; a node that does not answer contributes nothing. */
export async function scrapeFrameCounts(nodes: Readonly<Record<string, string>>): Promise<FrameCounts> {
  const parts = await Promise.all(
    Object.entries(nodes).map(async ([name, url]) => {
      try {
        const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })
        return parseFrameCounts(name, await res.text())
      } catch {
        return {}
      }
    }),
  )
  return Object.assign({}, ...parts) as FrameCounts
}

/** Frames a second per link over `seconds`, for links seen at both ends of the window, busiest first. */
export function frameRates(before: FrameCounts, after: FrameCounts, seconds: number): Record<string, number> {
  const rates = Object.entries(after)
    .filter(([link]) => before[link] !== undefined)
    .map(([link, n]): [string, number] => [link, Math.round((n - (before[link] ?? 0)) / seconds)])
    .sort((a, b) => b[1] - a[1])
  return Object.fromEntries(rates)
}
