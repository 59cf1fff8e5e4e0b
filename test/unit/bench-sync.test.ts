// `npm run bench:sync`: the probe really makes one durable store write per
// latency it reports, and the summary, ratios and table say what the
// latencies say.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { formatSyncTable, parseProbeResult, summarizeSync, withInlineRatio } from '../../bench/lib/sync-writes.js'
import { LevelLogStore } from '../../src/storage/level-log-store.js'

const run = promisify(execFile)
const REPO = fileURLToPath(new URL('../..', import.meta.url))

t.test('percentiles are nearest-rank over the latencies in any order', async (t) => {
  const lat = Array.from({ length: 100 }, (_, i) => (100 - i) / 10) // 10.0 down to 0.1
  t.same(summarizeSync('store', lat), { mode: 'store', writes: 100, p50_ms: 5, p90_ms: 9, p99_ms: 9.9 })
  t.throws(() => summarizeSync('inline', []), /made no write/)
})

t.test('each p50 is a multiple of the inline p50; without inline there is no ratio', async (t) => {
  const inline = summarizeSync('inline', [0.2, 0.2, 0.2])
  const pool = summarizeSync('threadpool', [0.5, 0.5, 0.5])
  const rows = withInlineRatio([inline, pool])
  t.same(rows.map((r) => r.x_inline_p50), [1, 2.5])
  t.same(withInlineRatio([pool]).map((r) => r.x_inline_p50), [null])
  const table = formatSyncTable(rows).split('\n')
  t.equal(table.length, 4)
  t.match(table[3], /^\| threadpool \|\s+3 \|\s+0\.500 \|.*\|\s+2\.50 \|$/)
})

t.test('a probe result must name a known mode and hold non-negative numbers', async (t) => {
  t.same(parseProbeResult('{"mode":"store","latencies_ms":[0.1,2]}'), { mode: 'store', latencies: [0.1, 2] })
  t.throws(() => parseProbeResult('{"mode":"disk","latencies_ms":[]}'), /unknown mode/)
  t.throws(() => parseProbeResult('{"mode":"inline","latencies_ms":[-1]}'), /non-negative/)
  t.throws(() => parseProbeResult('[]'), /latencies_ms|mode/)
})

t.test('the store probe leaves exactly one stored entry per write it timed', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-probe-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'out.json')
  await run(process.execPath, ['--import', '@isaacs/ts-node-temp-fork-for-pr-2009/import', 'bench/sync-probe.ts', '--mode', 'store', '--dir', dir, '--seconds', '0.3', '--bytes', '64', '--out', out], {
    cwd: REPO,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    timeout: 60_000,
  })
  const { mode, latencies } = parseProbeResult(fs.readFileSync(out, 'utf8'))
  t.equal(mode, 'store')
  t.ok(latencies.length > 0, 'it made writes')
  const store = new LevelLogStore(path.join(dir, 'store'))
  const loaded = await store.load()
  await store.close()
  t.equal(loaded.entries.length, latencies.length)
  t.equal(loaded.entries.at(-1)?.data.length, 64)
})
