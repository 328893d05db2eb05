'use strict'
// 1,000 children, each with a Screen, driven (wait for a prompt, type, wait for the answer,
// render an SVG) and disposed two at a time (the machine has 2 cores): fds, threads and the
// heap afterwards must be as before.
//
//   node --expose-gc stress/worker.js screen '{"n":1000}'

const c = require('./common')

const { pty, m } = c

async function heapUsed() {
  // Finalizers and weak references settle over a few turns of the loop.
  for (let i = 0; i < 2; i++) await m.collectGarbage()
  return process.memoryUsage().heapUsed
}

async function one(i) {
  const child = await pty.fork(['sh', '-c', 'printf "\\033[1;3%dmready\\033[0m> " $(( $$ % 8 )); read x; echo "got $x"'], { cols: 40, rows: 6 })
  const screen = child.screen()
  try {
    await screen.waitFor('ready>')
    await child.press(...String(i), 'Enter')
    await screen.waitFor(`got ${i}`)
    const svg = screen.toSVG()
    // Runs of text are split at spaces: the answer's digits are one <text> of their own.
    if (!svg.startsWith('<svg') || !svg.includes(`>${i}</text>`)) throw new Error(`child ${i}: the SVG lacks "${i}"`)
    const status = await child.wait()
    if (status.exitCode !== 0) throw new Error(`child ${i}: ${JSON.stringify(status)}`)
  } finally {
    screen.dispose()
  }
}

async function pairs(from, to, failures) {
  for (let i = from; i < to; i += 2) {
    const results = await Promise.allSettled([one(i), one(i + 1)])
    results.forEach((r, k) => r.status === 'rejected' && failures.add({ i: i + k, error: String(r.reason) }))
  }
}

async function screenMany({ n = 1000, warm = 200 } = {}) {
  // Module loading, JIT and the reactor thread first. The heap goes on growing for a few
  // hundred children, with or without a Screen (V8's code and caches), then levels off.
  const failures = new c.Failures()
  await pairs(0, warm, failures)
  const base = c.baseline()
  const heapBefore = await heapUsed()
  const t0 = performance.now()
  await pairs(warm, warm + n, failures)
  const ms = c.since(t0)
  const left = await c.leftovers(base)
  const after = m.snapshot()
  const heapAfter = await heapUsed()
  const growthKiB = Math.round((heapAfter - heapBefore) / 1024)
  return {
    scenario: 'screen',
    strategy: c.strategy(),
    figures: {
      children: n,
      failures: failures.count,
      ms,
      heapKiB: { before: Math.round(heapBefore / 1024), after: Math.round(heapAfter / 1024), growth: growthKiB },
      fds: { before: base.snap.fds, after: after.fds },
      threads: { before: base.snap.threads, after: after.threads },
    },
    firstFailures: failures.first,
    checks: [
      m.check(`all ${n} children driven through their Screen`, failures.count === 0, failures.first),
      // A kept Screen (an xterm.js terminal with its buffer of cells) is several KiB, so keeping
      // them would show over 1,000 children; 1 MiB is left for the heap's own noise.
      m.check('heap grown by less than 1 MiB', growthKiB < 1024, growthKiB),
      ...c.leakChecks(left, base),
    ],
  }
}

module.exports = { screenMany }
