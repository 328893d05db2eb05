'use strict'
// What a Screen costs: a child floods 64 MiB of coloured text; the parent either only reads the
// stream or also feeds a Screen (which parses every byte). Prints both and their ratio.
//
//   npm run build && node bench/screen.js [--mib=64] [--reps=3]

const { fork } = require('..')

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const MIB = Number(args.mib ?? 64)
const REPS = Number(args.reps ?? 3)

// 64 KiB of 80-column lines, each word in one of the 256 colours, written MIB × 16 times.
const FLOOD = `
import os, sys
line = lambda i: ''.join('\\x1b[38;5;%dm%s\\x1b[0m ' % ((i * 7 + j) % 256, 'word') for j in range(12)) + '\\n'
block = ''.join(line(i) for i in range(4096)).encode()[:65536]
n = ${MIB} * 16
for _ in range(n):
    view = memoryview(block)
    while view:
        view = view[os.write(1, view):]
`

async function once(withScreen) {
  const start = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  const child = await fork(['python3', '-c', FLOOD], { cols: 120, rows: 40 })
  let bytes = 0
  child.on('data', (chunk) => (bytes += chunk.length))
  const screen = withScreen ? child.screen() : undefined
  await child.wait()
  if (screen) {
    await screen.flush()
    screen.dispose()
  }
  const cpu = process.cpuUsage(cpu0)
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000, bytes }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

;(async () => {
  const runs = { stream: [], screen: [] }
  for (let i = 0; i < REPS; i++) {
    runs.stream.push(await once(false))
    runs.screen.push(await once(true))
  }
  // The terminal turns each \n into \r\n: a little more than MIB arrives, the same every run.
  const expected = runs.stream[0].bytes
  for (const r of [...runs.stream, ...runs.screen]) if (r.bytes !== expected || r.bytes < MIB * 1024 * 1024) throw new Error(`got ${r.bytes} bytes`)
  const s = { ms: median(runs.stream.map((r) => r.ms)), cpu: median(runs.stream.map((r) => r.cpuMs)) }
  const c = { ms: median(runs.screen.map((r) => r.ms)), cpu: median(runs.screen.map((r) => r.cpuMs)) }
  const mibps = (ms) => (MIB / (ms / 1000)).toFixed(0)
  console.log(`Screen flood, ${MIB} MiB of 256-colour text, median of ${REPS}:`)
  console.log(`  stream alone:  ${s.ms.toFixed(0)} ms wall (${mibps(s.ms)} MiB/s), ${s.cpu.toFixed(0)} ms parent CPU`)
  console.log(`  with a Screen: ${c.ms.toFixed(0)} ms wall (${mibps(c.ms)} MiB/s), ${c.cpu.toFixed(0)} ms parent CPU`)
  console.log(`  ratio: ${(c.ms / s.ms).toFixed(1)}x wall, ${(c.cpu / s.cpu).toFixed(1)}x parent CPU`)
})().catch((err) => {
  console.error(err)
  process.exit(1)
})
