import t from 'tap'
import { frameRates, parseFrameCounts } from '../../bench/lib/peer-frames.js'

const metricsOf = (rows: Record<string, number>): string =>
  [
    '# HELP ratelimiter_peer_frames_sent_total frames written to the peer',
    '# TYPE ratelimiter_peer_frames_sent_total counter',
    ...Object.entries(rows).map(([peer, n]) => `ratelimiter_peer_frames_sent_total{peer="${peer}"} ${n}`),
    'ratelimiter_peer_messages_sent_total{peer="node-2"} 999',
  ].join('\n')

t.test('reads the frame counter of each peer, and nothing else', async (t) => {
  t.same(parseFrameCounts('node-1', metricsOf({ 'node-2': 120, 'node-3': 7 })), { 'node-1→node-2': 120, 'node-1→node-3': 7 })
  t.same(parseFrameCounts('node-1', 'ratelimiter_requests_total 5\n'), {}, 'a node without peer series')
})

t.test('rates per second over the window, busiest link first, only links seen at both ends', async (t) => {
  const before = { 'node-1→node-2': 100, 'node-2→node-1': 40, 'node-3→node-1': 5 }
  const after = { 'node-1→node-2': 2100, 'node-2→node-1': 640, 'node-1→node-3': 50 }
  const rates = frameRates(before, after, 2)
  t.same(rates, { 'node-1→node-2': 1000, 'node-2→node-1': 300 })
  t.same(Object.keys(rates), ['node-1→node-2', 'node-2→node-1'])
})
