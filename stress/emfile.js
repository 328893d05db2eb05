'use strict'
// The fd limit reached: fork, openpty and spawn must reject with EMFILE, leave nothing
// half-open, and work again once fds are free. The runner starts this process with a lowered
// RLIMIT_NOFILE (`prlimit --nofile=N:N`, or `ulimit -n N` in sh); the process then fills the
// rest of its table with /dev/null so that exactly `k` fds are free for each attempt.
//
// Counting free fds needs no fd: open /dev/null until EMFILE, count, close them again.

const fs = require('node:fs')

const c = require('./common')

const { pty, m } = c

/** The soft RLIMIT_NOFILE of this process, from /proc/self/limits. */
function fdLimit() {
  const line = /^Max open files\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
  return line ? { soft: Number(line[1]), hard: Number(line[2]) } : undefined
}

/** Holds /dev/null fds to keep exactly `k` fds free. */
class Filler {
  constructor() {
    this.held = []
  }

  /** How many fds can be opened now (opens them and closes them again). */
  free() {
    const probe = []
    try {
      for (;;) probe.push(fs.openSync('/dev/null', 'r'))
    } catch (err) {
      if (err.code !== 'EMFILE') throw err
    }
    for (const fd of probe) fs.closeSync(fd)
    return probe.length
  }

  /** Leaves exactly `k` fds free. */
  leave(k) {
    try {
      for (;;) this.held.push(fs.openSync('/dev/null', 'r'))
    } catch (err) {
      if (err.code !== 'EMFILE') throw err
    }
    for (let i = 0; i < k; i++) fs.closeSync(this.held.pop())
  }

  /** Runs `f` with one more fd free (reading /proc needs one), then takes it back. */
  withSpare(f) {
    const fd = this.held.pop()
    if (fd !== undefined) fs.closeSync(fd)
    try {
      return f()
    } finally {
      if (fd !== undefined) this.held.push(fs.openSync('/dev/null', 'r'))
    }
  }

  releaseAll() {
    for (const fd of this.held.splice(0)) fs.closeSync(fd)
  }
}

/** What an attempt gave: 'ok' or the error's shape. */
function shape(err) {
  return { name: err?.constructor?.name, code: err?.code, errno: err?.errno, syscall: err?.syscall }
}

function isEmfile(err) {
  return err instanceof Error && err.code === 'EMFILE' && err.errno === -24 && typeof err.syscall === 'string'
}

const OPS = {
  async fork() {
    const child = await pty.fork(['echo', 'hello'])
    const text = (await c.collect(child)).toString()
    const status = await child.wait()
    return text === 'hello\r\n' && status.status === 0 ? 'ok' : `wrong: ${JSON.stringify({ text, status })}`
  },
  async openpty() {
    const pair = await pty.openpty()
    fs.closeSync(pair.master)
    fs.closeSync(pair.slave)
    return 'ok'
  },
  async spawn(fds) {
    const status = await pty.spawn(['echo', 'hello'], { stdin: fds.stdin, stdout: fds.stdout })
    return status.status === 0 ? 'ok' : `wrong: ${JSON.stringify(status)}`
  },
}

/** After the reactor has started: every free count from 0 to 8, every operation. */
async function emfile({ expectLimit, frees = [0, 1, 2, 3, 4, 5, 6, 7, 8], concurrent = 8 } = {}) {
  const limit = fdLimit()
  const fds = { stdin: fs.openSync('/dev/null', 'r'), stdout: fs.openSync('/dev/null', 'w') }
  await c.warmUp()
  const before = m.fdTable()
  await pty.spawn(['true'], fds)
  // spawn's own copies of stdin and stdout are closed by the reactor thread just after.
  await m.waitFor(() => m.newFds(before).length === 0)
  const base = c.baseline()
  const filler = new Filler()
  const attempts = []
  for (const k of frees) {
    for (const [op, run] of Object.entries(OPS)) {
      filler.leave(k)
      const kids = filler.withSpare(() => m.children().map((ch) => ch.pid))
      let outcome
      try {
        outcome = await run(fds)
      } catch (err) {
        outcome = err
      }
      // Nothing half-open: the same number of fds free as before, no new child.
      await m.waitFor(() => filler.free() === k, 10000)
      const freeAfter = filler.free()
      const newKids = filler.withSpare(() => m.children().filter((ch) => !kids.includes(ch.pid)).map((ch) => m.describePid(ch.pid)))
      attempts.push({
        free: k,
        op,
        outcome: typeof outcome === 'string' ? outcome : shape(outcome),
        typed: typeof outcome === 'string' ? outcome === 'ok' : isEmfile(outcome),
        freeAfter,
        newChildren: newKids,
      })
    }
  }
  // Many forks at once with a few fds free: each gets through or is refused with EMFILE.
  filler.leave(10)
  const settled = await Promise.allSettled(Array.from({ length: concurrent }, () => OPS.fork()))
  await m.waitFor(() => filler.free() === 10, 10000)
  const concurrentFreeAfter = filler.free()
  const concurrentOutcomes = settled.map((s) => (s.status === 'fulfilled' ? s.value : shape(s.reason)))
  const concurrentTyped = settled.every((s) => (s.status === 'fulfilled' ? s.value === 'ok' : isEmfile(s.reason)))
  filler.releaseAll()
  // Free again: it all works.
  const again = {}
  for (const [op, run] of Object.entries(OPS)) {
    try {
      again[op] = await run(fds)
    } catch (err) {
      again[op] = shape(err)
    }
  }
  const left = await c.leftovers(base)
  const rejections = attempts.filter((a) => typeof a.outcome !== 'string')
  const summary = {}
  for (const a of attempts) {
    const key = typeof a.outcome === 'string' ? a.outcome : `${a.outcome.code} (${a.outcome.syscall})`
    ;(summary[`${a.op} with ${a.free} free`] ??= []).push(key)
  }
  return {
    scenario: 'emfile',
    strategy: c.strategy(),
    figures: {
      limit,
      attempts: attempts.length,
      rejected: rejections.length,
      succeeded: attempts.length - rejections.length,
      outcomes: Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, v.join(', ')])),
      concurrent: { forks: concurrent, free: 10, ok: concurrentOutcomes.filter((o) => o === 'ok').length, outcomes: concurrentOutcomes },
      afterRelease: again,
    },
    checks: [
      m.check(`RLIMIT_NOFILE really lowered to ${expectLimit}`, limit !== undefined && limit.soft === expectLimit, limit),
      m.check('some attempts were refused (the limit was hit)', rejections.length > 0, rejections.length),
      m.check(
        'every refusal is an Error with code EMFILE (errno -24, a syscall)',
        attempts.every((a) => a.typed),
        attempts.filter((a) => !a.typed),
      ),
      m.check(
        'nothing half-open after any attempt (free fds back, no child)',
        attempts.every((a) => a.freeAfter === a.free && a.newChildren.length === 0),
        attempts.filter((a) => a.freeAfter !== a.free || a.newChildren.length > 0),
      ),
      m.check('with enough fds free, fork, openpty and spawn work at the limit', attempts.filter((a) => a.free >= 8).every((a) => a.outcome === 'ok'), attempts.filter((a) => a.free >= 8)),
      m.check(`${concurrent} forks at once with 10 fds free: each ok or EMFILE, nothing left`, concurrentTyped && concurrentFreeAfter === 10, {
        concurrentOutcomes,
        concurrentFreeAfter,
      }),
      m.check('all works again once fds are free', Object.values(again).every((v) => v === 'ok'), again),
      ...c.leakChecks(left, base),
    ],
  }
}

/** The very first fork of the process (the reactor not yet started) with `free` fds free. */
async function emfileFirst({ free, expectLimit }) {
  const limit = fdLimit()
  const filler = new Filler()
  filler.leave(free)
  let outcome
  try {
    outcome = await OPS.fork()
  } catch (err) {
    outcome = err
  }
  const typed = typeof outcome === 'string' ? outcome === 'ok' : isEmfile(outcome)
  filler.releaseAll()
  let later
  try {
    later = await OPS.fork()
  } catch (err) {
    later = shape(err)
  }
  return {
    scenario: 'emfile-first',
    strategy: c.strategy(),
    figures: { free, outcome: typeof outcome === 'string' ? outcome : shape(outcome), later },
    checks: [
      m.check(`RLIMIT_NOFILE really lowered to ${expectLimit}`, limit !== undefined && limit.soft === expectLimit, limit),
      m.check(`first fork with ${free} fds free: ok or EMFILE`, typed, typeof outcome === 'string' ? outcome : shape(outcome)),
      m.check('a fork once fds are free works', later === 'ok', later),
    ],
  }
}

module.exports = { emfile, emfileFirst, fdLimit }
