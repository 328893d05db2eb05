'use strict'
// Ending everything a terminal started: terminate() next to unrelated children, and `await
// using` on many terminals with background jobs. Whether a process belongs to a terminal is
// judged from outside, by a tag in its environment that every descendant inherits (setsid
// does not shed it), never by asking the library.

const fs = require('node:fs')
const { spawn } = require('node:child_process')
const { performance } = require('node:perf_hooks')

const c = require('./common')

const { pty, m } = c

/** Background jobs of every kind: plain, ignoring SIGHUP and SIGTERM, and one that left the
 * session; `ready` once all are started. */
const JOBS = 'sleep 100 & (trap "" HUP TERM; sleep 100) & setsid sleep 100 & echo ready; wait'
const TAG = 'NAPI_PTY_STRESS_TAG'

/** The live (not zombie) processes whose environment holds `TAG=tag`, or any tag of this run
 * when `tag` is undefined. */
function tagged(tag) {
  const needle = tag === undefined ? `${TAG}=${process.pid}-` : `${TAG}=${tag}\0`
  const out = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let env
    try {
      env = fs.readFileSync(`/proc/${name}/environ`, 'latin1')
    } catch {
      continue
    }
    // A zombie has an empty environment: gone, as far as anyone can tell.
    if (env.includes(needle)) out.push(Number(name))
  }
  return out
}

/** A terminal running JOBS, tagged, once `ready` has come out. */
async function jobsTerminal(tag) {
  const env = { ...process.env, [TAG]: tag }
  const child = await pty.fork(['sh', '-c', JOBS], { env })
  let text = ''
  child.setEncoding('latin1')
  await new Promise((resolve, reject) => {
    child.on('data', (chunk) => {
      text += chunk
      if (text.includes('ready')) resolve()
    })
    child.once('end', () => reject(new Error(`ended before ready: ${JSON.stringify(text)}`)))
  })
  return child
}

/** An unrelated child, started now (its pid among the terminal's), with its exit noted. */
function bystander(argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' })
  const start = m.procStat(child.pid)?.[19]
  const state = { child, died: false }
  child.once('exit', () => {
    state.died = !state.killedByUs
  })
  state.alive = () => !state.died && m.procStat(child.pid)?.[19] === start && m.procState(child.pid) !== 'Z'
  state.end = () => {
    state.killedByUs = true
    child.kill('SIGKILL')
    return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)))
  }
  return state
}

/**
 * `n` terminate() calls, `concurrency` at a time, each on a terminal with background jobs and
 * each next to an unrelated `sleep` started at the same moment; a long-lived `sleep` and a Node
 * child run throughout. None of the unrelated ones may die, and no process of a terminal may be
 * left when its terminate() resolves.
 */
async function terminateMany({ n = 1000, concurrency = 8 } = {}) {
  await c.warmUp()
  const base = c.baseline()
  const lasting = [bystander(['sleep', '1000']), bystander([process.execPath, '-e', 'setInterval(() => {}, 1000)'])]
  const failures = new c.Failures()
  const bystanderDeaths = new c.Failures()
  const times = []
  let next = 0
  const t0 = performance.now()
  const worker = async () => {
    while (next < n) {
      const i = next++
      const tag = `${process.pid}-t${i}`
      const near = bystander(['sleep', '1000'])
      try {
        const child = await jobsTerminal(tag)
        const started = performance.now()
        const status = await child.terminate({ graceMs: i % 2 ? 0 : 50 })
        times.push(performance.now() - started)
        const left = tagged(tag)
        if (left.length || status.signal !== 'SIGHUP') failures.add({ i, status, left: left.map(m.describePid) })
      } catch (err) {
        failures.add({ i, error: String(err) })
      }
      if (!near.alive()) bystanderDeaths.add({ i, pid: near.child.pid })
      await near.end()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const ms = c.since(t0)
  const lastingAlive = lasting.map((b) => b.alive())
  await Promise.all(lasting.map((b) => b.end()))
  const left = await c.leftovers(base)
  const after = m.snapshot()
  times.sort((a, b) => a - b)
  const median = times.length ? Math.round(times[Math.floor(times.length / 2)]) : null
  return {
    scenario: 'terminate',
    strategy: c.strategy(),
    figures: {
      calls: n,
      concurrency,
      failures: failures.count,
      bystandersKilled: bystanderDeaths.count,
      ms,
      medianTerminateMs: median,
      fds: { before: base.snap.fds, after: after.fds },
      threads: { before: base.snap.threads, after: after.threads },
    },
    firstFailures: [...failures.first, ...bystanderDeaths.first],
    checks: [
      m.check(`all ${n} terminate() calls resolved with nothing of their terminal left`, failures.count === 0, failures.first),
      m.check('no unrelated child died (one started beside each terminal)', bystanderDeaths.count === 0, bystanderDeaths.first),
      m.check('the long-lived unrelated sleep and Node child survived', lastingAlive.every(Boolean), lastingAlive),
      m.check('no tagged process left at the end', tagged().length === 0, tagged().map(m.describePid)),
      ...c.leakChecks(left, base),
    ],
  }
}

/** `n` terminals, all open at once, each with background jobs, each disposed as `await using`
 * does, at the same time. Afterwards no process of theirs may be left, fds and threads as before. */
async function disposeMany({ n = 1000 } = {}) {
  await c.warmUp()
  const base = c.baseline()
  const t0 = performance.now()
  let opened = 0
  let all
  const allOpen = new Promise((resolve) => (all = resolve))
  const failures = new c.Failures()
  const one = async (i) => {
    // What `await using child = …` does at the end of its block, written out: Node 20 has
    // Symbol.asyncDispose but not the syntax.
    const child = await jobsTerminal(`${process.pid}-d${i}`)
    try {
      if (++opened === n) all()
      // Every terminal stays open until all are: they are disposed together.
      await allOpen
    } finally {
      await child[Symbol.asyncDispose]()
    }
  }
  let during
  let processesDuring = 0
  let openMs = 0
  const watching = allOpen.then(() => {
    openMs = c.since(t0)
    during = m.snapshot()
    processesDuring = tagged().length
  })
  const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => one(i)))
  await watching
  const ms = c.since(t0)
  results.forEach((r, i) => r.status === 'rejected' && failures.add({ i, error: String(r.reason) }))
  const leftTagged = tagged()
  const left = await c.leftovers(base)
  const after = m.snapshot()
  return {
    scenario: 'dispose',
    strategy: c.strategy(),
    figures: {
      terminals: n,
      processesWhileOpen: processesDuring,
      failures: failures.count,
      ms,
      openMs,
      disposeMs: ms - openMs,
      fds: { before: base.snap.fds, during: during?.fds, after: after.fds },
      threads: { before: base.snap.threads, during: during?.threads, after: after.threads },
    },
    firstFailures: failures.first,
    checks: [
      m.check(`all ${n} terminals opened and disposed`, failures.count === 0 && opened === n, failures.first),
      m.check('each had its four processes while open', processesDuring === 4 * n, processesDuring),
      m.check('no process of any of those sessions left', leftTagged.length === 0, leftTagged.slice(0, 10).map(m.describePid)),
      ...c.leakChecks(left, base),
    ],
  }
}

module.exports = { terminateMany, disposeMany }
