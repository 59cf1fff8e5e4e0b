// The host's kernel threads in bench:rounds: finding them in /proc, turning
// run-time readings into spans, and the worker that samples them.
import fs from 'node:fs'
import t from 'tap'
import { findKernelThreads, latencyAroundHost, parseProcStat, runSpans, startHostSampler } from '../../bench/lib/host-threads.js'

t.test('a /proc stat line gives pid, name and parent, whatever the name holds', async (t) => {
  t.same(parseProcStat('78 (kdamond.0) S 2 0 0 0 -1 2097216 0 0'), { pid: 78, name: 'kdamond.0', ppid: 2 })
  t.same(parseProcStat('4242 (a (odd) name) R 4000 4242 4242 0'), { pid: 4242, name: 'a (odd) name', ppid: 4000 })
  t.equal(parseProcStat('not a stat line'), null)
  t.equal(parseProcStat('12 (x) S'), null, 'no parent field')
})

t.test('readings become the stretches in which the thread ran', async (t) => {
  const ms = (x: number): number => x * 1e6
  const spans = runSpans([
    { t: 0, running: true, ns: ms(10) }, // the first reading: a span 0→2
    { t: 1, running: true, ns: ms(10) }, // the run time lags the state by up to a tick
    { t: 2, running: false, ns: ms(11) },
    { t: 3, running: false, ns: null },
    { t: 4, running: true, ns: ms(11.5) }, // 4→7, from the 11 ms read before it
    { t: 5, running: true, ns: ms(11.5) },
    { t: 6, running: true, ns: ms(13) },
    { t: 7, running: false, ns: ms(13.5) },
    { t: 7.5, running: false, ns: null },
    { t: 9.5, running: true, ns: ms(13.5) }, // running again 2 ms after: a new span 9.5→11.5
    { t: 10.5, running: false, ns: ms(14) },
    { t: 11.5, running: true, ns: ms(14) }, // asleep for one reading: the same span, still running at the last reading
    { t: 12.5, running: true, ns: ms(14.5) },
  ])
  t.same(spans.map((s) => [s.from, s.to]), [[0, 2], [4, 7], [9.5, 12.5]])
  t.same(spans.map((s) => Math.round(s.cpu_ms * 1000) / 1000), [0, 2.5, 1], 'CPU from the reading before each span; none known before the first')
  t.same(runSpans([{ t: 0, running: false, ns: 5 }, { t: 1, running: false, ns: null }]), [], 'asleep throughout')
})

t.test('the p99 of the requests no host run overlapped sets the slow ones in host runs apart', async (t) => {
  // 200 responses, one a ms, of 2 ms each; the ten that ended in 100→110 took 30 ms, and a host run covered 85→105.
  const responses = Array.from({ length: 200 }, (_, i) => ({ end: i, ms: i >= 100 && i < 110 ? 30 : 2 }))
  const host = [{ name: 'kdamond.0', spans: [{ from: 85, to: 105, cpu_ms: 15 }] }]
  const r = latencyAroundHost(responses, host, 50)
  t.equal(r.responses, 200)
  // In flight during 85→105: the 2 ms ones that ended in 86..106 exclusive of the slow ones, plus every slow one (each started 30 ms before it ended).
  t.equal(r.overlapped, 14 + 10 - 0, 'ended in 86..99 (14), and the ten slow ones')
  t.equal(r.p99_ms, 30, 'ten of 200 are slow: the p99 is theirs')
  t.equal(r.p99_not_overlapped_ms, 2, 'none of them was clear of the run')
  t.equal(r.overlapped_shifted, 21, 'the run moved to 135→155 overlaps the 2 ms ones that ended in 136..156')
  t.equal(r.p99_not_overlapped_shifted_ms, 30, 'the control keeps the slow ones')
  t.match(latencyAroundHost(responses, []), { responses: 200, overlapped: 0, p99_ms: 30, p99_not_overlapped_ms: 30, p99_not_overlapped_shifted_ms: 30 }, 'no runs, nothing set apart')
})

t.test('only children of kthreadd are kernel threads', { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
  const all = findKernelThreads([''])
  t.notOk(all.some((k) => k.pid === process.pid), 'this process is not one')
  t.notOk(all.some((k) => k.pid === 2), 'kthreadd itself is not its own child')
  for (const k of all.slice(0, 20)) {
    const stat = parseProcStat(fs.readFileSync(`/proc/${k.pid}/stat`, 'utf8'))
    if (stat !== null) t.equal(stat.ppid, 2, `${k.name} is a child of kthreadd`)
  }
  const kthreaddVisible = fs.existsSync('/proc/2/stat') && parseProcStat(fs.readFileSync('/proc/2/stat', 'utf8'))?.name === 'kthreadd'
  if (kthreaddVisible) t.ok(all.length > 0, 'a host whose kthreadd we see has kernel threads')
  t.ok(findKernelThreads(['ksoftirqd']).every((k) => k.name.startsWith('ksoftirqd')), 'picked by prefix')
})

t.test('the sampler sees a thread run while this one spins', { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
  // Our own main thread stands in for a kernel thread: it spins for 100 ms while the worker samples it.
  const sampler = await startHostSampler([{ pid: process.pid, name: 'self' }])
  const start = performance.now()
  while (performance.now() - start < 100) {
    // spin
  }
  const spinEnd = performance.now()
  await new Promise((r) => setTimeout(r, 20))
  const [self] = await sampler.stop()
  t.equal(self?.name, 'self')
  const spans = self?.spans ?? []
  const cpu = spans.reduce((sum, s) => sum + s.cpu_ms, 0)
  t.ok(cpu >= 50, `the spin shows up as run time (${cpu.toFixed(1)} ms)`)
  // The spans are on the monotonic clock; performance.now() is on another origin, so compare lengths only.
  // Read from the run time, the spin would come in a piece per scheduler tick (25 of 4 ms); this thread may
  // still sleep a few ms in it now and then (seen under tap), so allow a few pieces.
  const lengths = spans.map((s) => s.to - s.from)
  const total = lengths.reduce((sum, x) => sum + x, 0)
  const shown = spans.map((s) => `${(s.to - s.from).toFixed(1)} ms`).join(', ')
  t.ok(spans.length <= 4, `a few spans, not a piece per tick (${shown})`)
  t.ok(total >= 60 && total <= spinEnd - start + 40, `they cover the spin (${total.toFixed(1)} ms)`)
})
