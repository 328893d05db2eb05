// The chart of scenario 3: spawn latency against the parent's touched memory, one line per
// peer, drawn by Vega-Lite from a run's JSON and rendered to SVG headlessly (no canvas, no
// browser).
//
//   node bench/chart.mjs bench/results/latest.json > chart.svg

import * as vega from 'vega'
import * as vl from 'vega-lite'

/** The Vega-Lite specification for a run (its `summary` must be computed). */
export function chartSpec(json) {
  const rows = []
  for (const [gib, peers] of Object.entries(json.summary?.bigparent ?? {})) {
    for (const [key, x] of Object.entries(peers)) {
      if (x.median === undefined) continue
      rows.push({ peer: json.peers?.[key]?.label ?? key, gib: Number(gib), median: x.median, p95: x.p95 })
    }
  }
  const order = Object.keys(json.peers ?? {})
    .map((k) => json.peers[k].label)
    .filter((l) => rows.some((r) => r.peer === l))
  const sizes = [...new Set(rows.map((r) => r.gib))].sort((a, b) => a - b)
  const sc = json.scenarios?.find((s) => s.key === 'bigparent')
  const subtitle = [
    `${sc ? `${sc.params.spawns * sc.reps} spawns of true per point, from the start call to the exit reported; ` : ''}median, log scale`,
    `${json.machine?.cpu ?? ''}, ${json.machine?.cores ?? '?'} cores · ${json.mode} run ${json.date?.slice(0, 10) ?? ''} · napi-pty ${json.versions?.['napi-pty'] ?? ''}`,
  ]
  const color = { field: 'peer', type: 'nominal', title: null, sort: order, scale: { scheme: 'tableau10' } }
  const x = { field: 'gib', type: 'quantitative', title: 'memory touched by the parent (GiB)', axis: { values: sizes, format: 'd', grid: false }, scale: { domain: [sizes[0] ?? 0, sizes[sizes.length - 1] ?? 1], nice: false } }
  return {
    title: { text: 'Spawn latency against parent memory', subtitle, anchor: 'start', subtitleColor: '#555' },
    width: 560,
    height: 360,
    background: 'white',
    padding: 12,
    data: { values: rows },
    mark: { type: 'line', point: { filled: true, size: 60 } },
    encoding: {
      x,
      y: { field: 'median', type: 'quantitative', title: 'median spawn latency (ms)', scale: { type: 'log' }, axis: { grid: true } },
      color,
      strokeWidth: { condition: { test: "indexof(datum.peer, 'napi-pty') === 0", value: 3 }, value: 1.5 },
      tooltip: [{ field: 'peer' }, { field: 'gib' }, { field: 'median', format: '.2f' }, { field: 'p95', format: '.2f' }],
    },
    config: {
      font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
      legend: { orient: 'right', labelLimit: 220, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 },
      view: { stroke: null },
    },
  }
}

/** The chart as an SVG document. */
export async function renderChart(json) {
  const spec = vl.compile(chartSpec(json)).spec
  const view = new vega.View(vega.parse(spec), { renderer: 'none' })
  const svg = await view.toSVG()
  view.finalize()
  return svg
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fs = await import('node:fs')
  const json = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
  if (!json.summary) {
    const { summarize } = (await import('./report.js')).default
    json.summary = summarize(json)
  }
  process.stdout.write(await renderChart(json))
}
