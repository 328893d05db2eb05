'use strict'
// What `foreground()` costs a terminal application that polls every tab: N terminals open, each
// with a program in its foreground, and `foreground()` timed call by call over several rounds of
// all of them (as VS Code asks every 200 ms per tab). Prints one JSON line; run.js runs it at the
// end of a benchmark and puts the line in the report. Asserts nothing about time.
//
// usage: node bench/foreground.js [--terminals=1000] [--rounds=20]

const { performance } = require('node:perf_hooks')

const { fork } = require('../dist/index.js')

function option(name, fallback) {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))
  return arg ? Number(arg.slice(name.length + 3)) : fallback
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

async function main() {
  const terminals = option('terminals', 1000)
  const rounds = option('rounds', 20)
  const children = []
  try {
    for (let i = 0; i < terminals; i += 50) {
      const batch = Array.from({ length: Math.min(50, terminals - i) }, () => fork(['sleep', '600']))
      children.push(...(await Promise.all(batch)))
    }
    // Each must have exec'd: its foreground process is then `sleep`.
    for (const child of children) {
      const fg = child.foreground()
      if (fg?.name !== 'sleep') throw new Error(`terminal ${child.pid}: foreground ${JSON.stringify(fg)}`)
    }
    const samples = []
    for (let round = 0; round < rounds; round++) {
      for (const child of children) {
        const t0 = performance.now()
        const fg = child.foreground()
        const t1 = performance.now()
        if (fg === null) throw new Error(`terminal ${child.pid}: no foreground process`)
        samples.push((t1 - t0) * 1000)
      }
    }
    samples.sort((a, b) => a - b)
    const us = (v) => Math.round(v * 10) / 10
    return {
      terminals,
      calls: samples.length,
      medianUs: us(quantile(samples, 0.5)),
      p90Us: us(quantile(samples, 0.9)),
      p99Us: us(quantile(samples, 0.99)),
      maxUs: us(samples[samples.length - 1]),
    }
  } finally {
    await Promise.all(children.map((child) => child.terminate({ graceMs: 0 })))
  }
}

main().then(
  (result) => process.stdout.write(JSON.stringify(result) + '\n'),
  (err) => {
    process.stdout.write(JSON.stringify({ error: String(err?.stack ?? err) }) + '\n')
    process.exitCode = 1
  },
)
