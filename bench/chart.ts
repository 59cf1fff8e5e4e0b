// Hand-written SVG bar chart of a bench result: one panel per connection
// count, one bar per system (req/s), labelled with req/s, p99 and the ratio
// to inmem. No dependency.
//
//   node --import @isaacs/ts-node-temp-fork-for-pr-2009/import bench/chart.ts [in.json] [out.svg]
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { RESULTS_DIR } from './lib/procs.js'

export interface ChartRun {
  name: string
  connections: number
  rps: number
  p50_ms: number
  p99_ms: number
  errors: number
}

export interface ChartInput {
  machine?: { cpus?: number; cpu_model?: string; node?: string; load_start?: number[] }
  started_at?: string
  duration_s?: number
  runs: ChartRun[]
}

const COLORS: Readonly<Record<string, string>> = {
  inmem: '#7f8c8d',
  'redis-lua': '#c0392b',
  'redis-lua-fsync': '#e67e22',
  'cluster-leader': '#2471a3',
  'cluster-spread': '#17a589',
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** A round axis maximum and step: 1, 2 or 5 times a power of ten. */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 }
  const rough = max / ticks
  const pow = 10 ** Math.floor(Math.log10(rough))
  const step = ([1, 2, 5, 10].map((m) => m * pow).find((s) => s >= rough) ?? 10 * pow) as number
  return { top: Math.ceil(max / step) * step, step }
}

function fmtRps(v: number): string {
  return v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : v >= 1000 ? `${(v / 1000).toFixed(2)}k` : v.toFixed(0)
}

export function renderChart(input: ChartInput): string {
  const conns = [...new Set(input.runs.map((r) => r.connections))].sort((a, b) => a - b)
  const systems = [...new Set(input.runs.map((r) => r.name))]
  const panelW = Math.max(300, 110 * systems.length + 80)
  const panelH = 360
  const top = 70
  const left = 70
  const width = left + conns.length * (panelW + 30) + 10
  const height = top + panelH + 120
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`)
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`)
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="bold">ratelimiter: increments per second (higher is better)</text>`)
  const m = input.machine
  const sub = [
    m?.cpus === undefined ? '' : `${m.cpus} CPUs ${m.cpu_model ?? ''}`.trim(),
    m?.node ?? '',
    m?.load_start === undefined ? '' : `load ${m.load_start.join(' ')}`,
    input.duration_s === undefined ? '' : `${input.duration_s} s per run`,
    input.started_at ?? '',
  ].filter((s) => s !== '')
  out.push(`<text x="${left}" y="44" fill="#555">${esc(sub.join(' · '))}; label: req/s, p99, ratio to inmem</text>`)

  conns.forEach((c, pi) => {
    const x0 = left + pi * (panelW + 30)
    const runs = systems.map((s) => input.runs.find((r) => r.name === s && r.connections === c))
    const inmem = input.runs.find((r) => r.name === 'inmem' && r.connections === c)
    const { top: yMax, step } = niceScale(Math.max(...runs.map((r) => r?.rps ?? 0)))
    const y = (v: number): number => top + panelH - (v / yMax) * panelH
    out.push(`<text x="${x0 + panelW / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${c} connection${c === 1 ? '' : 's'}</text>`)
    for (let v = 0; v <= yMax + step / 2; v += step) {
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`)
      out.push(`<text x="${x0 - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${esc(v >= 1000 ? `${+(v / 1000).toFixed(2)}k` : String(+v.toFixed(2)))}</text>`)
    }
    out.push(`<line x1="${x0}" x2="${x0}" y1="${top}" y2="${top + panelH}" stroke="#999"/>`)
    const slot = panelW / systems.length
    runs.forEach((r, i) => {
      const name = systems[i] ?? ''
      const bx = x0 + i * slot + slot * 0.15
      const bw = slot * 0.7
      const cx = bx + bw / 2
      if (r !== undefined) {
        const by = y(r.rps)
        out.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${bw.toFixed(1)}" height="${(top + panelH - by).toFixed(1)}" fill="${COLORS[name] ?? '#34495e'}"><title>${esc(`${name} @${c}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ${r.errors} errors`)}</title></rect>`)
        const ratio = inmem !== undefined && inmem.rps > 0 ? ` · ${(r.rps / inmem.rps).toFixed(2)}x` : ''
        out.push(`<text x="${cx.toFixed(1)}" y="${(by - 20).toFixed(1)}" text-anchor="middle" font-weight="bold">${esc(fmtRps(r.rps))}</text>`)
        out.push(`<text x="${cx.toFixed(1)}" y="${(by - 6).toFixed(1)}" text-anchor="middle" fill="#555" font-size="10">${esc(`p99 ${r.p99_ms.toFixed(1)}ms${ratio}`)}</text>`)
      } else {
        out.push(`<text x="${cx.toFixed(1)}" y="${top + panelH - 6}" text-anchor="middle" fill="#999">skipped</text>`)
      }
      out.push(`<text transform="translate(${cx.toFixed(1)},${top + panelH + 14}) rotate(30)" fill="#222">${esc(name)}</text>`)
    })
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

/** Read a bench JSON and write its chart. */
export function writeChart(inFile: string, outFile: string): void {
  const input = JSON.parse(fs.readFileSync(inFile, 'utf8')) as ChartInput
  fs.mkdirSync(path.dirname(outFile), { recursive: true })
  fs.writeFileSync(outFile, renderChart(input))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const inFile = process.argv[2] ?? path.join(RESULTS_DIR, 'latest.json')
  const outFile = process.argv[3] ?? inFile.replace(/\.json$/, '.svg')
  writeChart(inFile, outFile)
  console.log(`wrote ${outFile}`)
}
