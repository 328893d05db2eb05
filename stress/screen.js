'use strict'
// 1,000 children, each with a Screen, driven (wait for a prompt, type, wait for the answer,
// render an SVG) and disposed, two at a time (the machine has 2 cores): fds, threads and the
// heap after must be as before. Exits non-zero on a leak.
//
//   npm run build && node --expose-gc stress/screen.js [--n=1000]

const fs = require('node:fs')
const { fork } = require('..')

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const N = Number(args.n ?? 1000)
const gc = globalThis.gc
if (!gc) throw new Error('run with node --expose-gc')

const fds = () => fs.readdirSync('/proc/self/fd').length
const threads = () => fs.readdirSync('/proc/self/task').length

async function heap() {
  // Finalizers and weak references settle over a few turns of the loop.
  for (let i = 0; i < 5; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

async function one(i) {
  const child = await fork(['sh', '-c', 'printf "\\033[1;3%dmready\\033[0m> " $(( $$ % 8 )); read x; echo "got $x"'], { cols: 40, rows: 6 })
  const screen = child.screen()
  await screen.waitFor('ready>')
  await child.press(...String(i), 'Enter')
  await screen.waitFor(`got ${i}`)
  screen.toSVG()
  await child.wait()
  screen.dispose()
}

;(async () => {
  // Warm up: module loading, JIT, the reactor thread. The heap goes on growing for a few
  // hundred children, with or without a Screen (V8's code and caches), then levels off.
  for (let i = 0; i < 200; i += 2) await Promise.all([one(i), one(i + 1)])
  const before = { fds: fds(), threads: threads(), heap: await heap() }
  for (let i = 0; i < N; i += 2) await Promise.all([one(i), one(i + 1)])
  const after = { fds: fds(), threads: threads(), heap: await heap() }
  const growth = (after.heap - before.heap) / 1024
  console.log(`screen stress: ${N} children with a Screen`)
  console.log(`  fds ${before.fds} -> ${after.fds}, threads ${before.threads} -> ${after.threads}, heap ${(before.heap / 1048576).toFixed(1)} -> ${(after.heap / 1048576).toFixed(1)} MiB (${growth.toFixed(0)} KiB)`)
  // 1 MiB is left for the heap's own noise: a kept Screen (an xterm.js terminal with its
  // buffer of cells) is several KiB, so keeping them would show over 1,000 runs.
  const ok = after.fds === before.fds && after.threads === before.threads && growth < 1024
  console.log(ok ? '  ok' : '  LEAK')
  process.exit(ok ? 0 : 1)
})().catch((err) => {
  console.error(err)
  process.exit(1)
})
