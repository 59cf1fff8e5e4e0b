import t from 'tap'
import { niceScale, renderChart } from '../../bench/chart.js'
import { formatSummary, groupOf, summarizeProfile, type CpuProfile } from '../../bench/lib/cpuprofile.js'
import {
  auditRemaining,
  classifyStatuses,
  cpuPercent,
  formatSwitches,
  formatTable,
  median,
  medianOfRounds,
  parseSwitchCounts,
  percentile,
  ratio,
  Samples,
  switchesPerRequest,
  targetChecks,
  withRatios,
  type RunRow,
} from '../../bench/lib/stats.js'

const row = (name: string, connections: number, rps: number, extra: Partial<RunRow> = {}): RunRow => ({
  name,
  connections,
  rps,
  p50_ms: 1,
  p99_ms: 5,
  errors: 0,
  non2xx: 0,
  limited: 0,
  ...extra,
})

t.test('nearest-rank percentiles', async (t) => {
  const s = new Samples()
  for (let i = 100; i >= 1; i--) s.add(i / 10) // 0.1 .. 10.0, added out of order
  const sorted = s.sorted()
  t.equal(s.length, 100)
  t.equal(percentile(sorted, 50), 5)
  t.equal(percentile(sorted, 99), 9.9)
  t.equal(percentile(sorted, 100), 10)
  t.equal(percentile(sorted, 0), 0.1)
  t.ok(Number.isNaN(percentile([], 50)))
  t.throws(() => percentile(sorted, 101))
  t.equal(percentile([7], 99), 7)
})

t.test('Samples grows past its first buffer', async (t) => {
  const s = new Samples()
  for (let i = 0; i < 70_000; i++) s.add(70_000 - i)
  t.equal(s.length, 70_000)
  t.equal(percentile(s.sorted(), 100), 70_000)
  t.equal(percentile(s.sorted(), 0), 1)
})

t.test('median', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.ok(Number.isNaN(median([])))
})

t.test('429s are reported apart; other non-2xx and transport errors are errors', async (t) => {
  t.same(classifyStatuses({ '200': 90, '429': 5, '503': 3, '400': 2 }, 4), { ok: 90, limited: 5, non2xx: 10, errors: 9 })
  t.same(classifyStatuses({ '200': 10 }, 0), { ok: 10, limited: 0, non2xx: 0, errors: 0 })
})

t.test('ratios are taken against the baseline at the same connection count', async (t) => {
  const runs = [row('inmem', 1, 1000), row('inmem', 50, 4000), row('redis-lua-fsync', 50, 2000), row('cluster-leader', 1, 500), row('cluster-leader', 50, 3000)]
  const r = withRatios(runs, ['inmem', 'redis-lua-fsync'])
  const leader50 = r.find((x) => x.name === 'cluster-leader' && x.connections === 50)
  const leader1 = r.find((x) => x.name === 'cluster-leader' && x.connections === 1)
  t.equal(leader50?.vs['inmem'], 0.75)
  t.equal(leader50?.vs['redis-lua-fsync'], 1.5)
  t.equal(leader1?.vs['inmem'], 0.5)
  t.equal(leader1?.vs['redis-lua-fsync'], null, 'no fsync run at 1 connection')
  t.equal(ratio(1, 0), null)
  t.equal(ratio(undefined, 1), null)
  const table = formatTable(r, ['inmem', 'redis-lua-fsync'])
  t.match(table, /\| cluster-leader +\| +50 \| +3000 \|/)
  t.match(table, /0\.75 \| +1\.50 \|/)
})

t.test('issue 4 targets', async (t) => {
  const runs = [
    row('inmem', 50, 4000),
    row('redis-lua-fsync', 50, 2000),
    row('cluster-leader', 1, 900, { p50_ms: 0.8 }),
    row('cluster-leader', 50, 2800, { p99_ms: 16 }),
    row('cluster-spread', 50, 2000, { errors: 2 }),
  ]
  const checks = targetChecks(runs)
  const by = (prefix: string) => checks.find((c) => c.target.startsWith(prefix))
  t.equal(by('cluster-leader@50 >= 1.0x')?.ok, true)
  t.equal(by('cluster-leader@50 >= 0.65x')?.ok, true) // 0.7
  t.equal(by('cluster-spread@50')?.ok, false) // 0.714
  t.equal(by('cluster-leader@1 p50')?.ok, true)
  t.equal(by('cluster-leader@50 p99')?.ok, false)
  t.equal(by('cluster runs: no errors')?.value, 2)
  t.equal(targetChecks([row('inmem', 50, 1)])[0]?.ok, null, 'missing runs decide nothing')
})

t.test('loss audit bounds', async (t) => {
  t.same(auditRemaining(1000, 10, 3, 990), { ok: true, max: 990, min: 987 })
  t.equal(auditRemaining(1000, 10, 3, 987).ok, true)
  t.equal(auditRemaining(1000, 10, 3, 991).ok, false, 'an acknowledged increment is missing')
  t.equal(auditRemaining(1000, 10, 3, 986).ok, false, 'more spent than was ever sent')
})

t.test('cpu percent', async (t) => {
  t.equal(cpuPercent(1, 2.5, 3), 50)
  t.ok(Number.isNaN(cpuPercent(0, 1, 0)))
})

t.test('context switches: parsed from a task status, taken a request, formatted per process', async (t) => {
  // The tail of a real /proc/<pid>/task/<tid>/status: both counters are whole-line fields.
  const status = 'Name:\tnode\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t1500\nnonvoluntary_ctxt_switches:\t42\n'
  t.same(parseSwitchCounts(status), { voluntary: 1500, involuntary: 42 })
  t.equal(parseSwitchCounts('Name:\tnode\n'), null, 'a status without the counters (a thread gone mid-read)')
  t.equal(parseSwitchCounts('xvoluntary_ctxt_switches:\t9\nnonvoluntary_ctxt_switches:\t1\n'), null, 'only a whole field name counts')

  const before = { voluntary: 1000, involuntary: 10 }
  const after = { voluntary: 1500, involuntary: 210 }
  t.same(switchesPerRequest(before, after, 1000), { voluntary: 0.5, involuntary: 0.2 })
  t.equal(switchesPerRequest(null, after, 1000), null, 'a process gone before the load')
  t.equal(switchesPerRequest(before, null, 1000), null, 'a process gone during the load')
  t.equal(switchesPerRequest(before, after, 0), null, 'no requests, no rate')

  t.equal(
    formatSwitches({ 'node-1': { voluntary: 0.5, involuntary: 0.2 }, loadgen: { voluntary: 0.05, involuntary: 0.01 } }),
    'node-1 0.50+0.20, loadgen 0.05+0.01, all 0.76',
  )
})

t.test('cpuprofile self time and groups', async (t) => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0, scriptId: '0' })
  const p: CpuProfile = {
    startTime: 0,
    endTime: 1000,
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
      { id: 2, callFrame: frame('(idle)', '') },
      { id: 3, callFrame: frame('step', 'file:///w/dist/raft/core.js') },
      { id: 4, callFrame: frame('route', 'file:///w/node_modules/fastify/lib/route.js') },
    ],
    samples: [2, 3, 3, 4, 4],
    timeDeltas: [0, 100, 300, 100, 100],
  }
  const s = summarizeProfile(p)
  t.equal(s.totalMs, 0.6) // idle 100 + step 400 + route 100 us (the last sample has no successor)
  t.equal(s.busyMs, 0.5)
  t.equal(s.functions[0]?.name, 'step dist/raft/core.js:10')
  t.equal(s.functions[0]?.ms, 0.4)
  t.equal(s.groups.find((g) => g.name === 'npm:fastify')?.busyPct, 20)
  t.equal(groupOf(frame('x', 'node:internal/streams')), 'node:internal')
  t.equal(groupOf(frame('x', 'file:///a/node_modules/@scope/pkg/i.js')), 'npm:@scope/pkg')
  t.equal(groupOf(frame('(garbage collector)', '')), '(garbage collector)')

  // Per request: 0.4 ms of step over 200 requests is 2 µs each; busy 0.5 ms is 2.5.
  const text = formatSummary(s, 15, 200)
  t.match(text, /200 requests, busy 2\.5 µs\/req/)
  t.match(text, /0 ms\s+2\.00 µs\/req\s+step dist\/raft\/core\.js:10/)
  t.notMatch(formatSummary(s), /µs\/req/, 'no per-request column without a request count')
})

t.test('chart', async (t) => {
  t.same(niceScale(4564), { top: 5000, step: 1000 })
  t.same(niceScale(120), { top: 150, step: 50 })
  const svg = renderChart({ runs: [{ name: 'inmem', connections: 1, rps: 1000, p50_ms: 0.1, p99_ms: 0.4, errors: 0 }, { name: 'cluster-leader', connections: 1, rps: 100, p50_ms: 5, p99_ms: 9, errors: 0 }] })
  t.match(svg, /^<svg /)
  t.match(svg, /0\.10x/)
  t.equal((svg.match(/<rect /g) ?? []).length, 3, 'background + two bars')
})

t.test('rounds collapse to the round with the median req/s, median latencies and summed errors', async (t) => {
  const rows = medianOfRounds([
    row('a', 50, 300, { p50_ms: 9, p99_ms: 30, errors: 1 }),
    row('b', 50, 10),
    row('a', 50, 100, { p50_ms: 3, p99_ms: 10 }),
    row('a', 50, 200, { p50_ms: 4, p99_ms: 50, errors: 2, limited: 5 }),
  ])
  t.equal(rows.length, 2)
  const a = rows.find((r) => r.name === 'a')
  t.match(a, { rps: 200, p50_ms: 4, p99_ms: 30, errors: 3, limited: 5, rps_rounds: [300, 100, 200] })
  // Even count: the lower middle round stands for them, latencies average the middle two.
  const b = medianOfRounds([row('x', 1, 5, { p99_ms: 2 }), row('x', 1, 7, { p99_ms: 4 })])[0]
  t.match(b, { rps: 5, p99_ms: 3, rps_rounds: [5, 7] })
})
