'use strict'
// What the stress suite measures about the process it runs in: fds, threads, memory and
// children (zombies included), read from /proc. Plain CommonJS so that the runner, the worker
// processes and the ava smoke test all load the same code without a compile step.

const fs = require('node:fs')

/** How many fds this process has open (the listing's own fd included, consistently). */
function fdCount() {
  return fs.readdirSync('/proc/self/fd').length
}

/** fd -> what it refers to (`/dev/ptmx`, `pipe:[123]`, `anon_inode:[pidfd]`…). */
function fdTable() {
  const table = new Map()
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      table.set(Number(name), fs.readlinkSync(`/proc/self/fd/${name}`))
    } catch {
      // The directory listing's own fd, closed meanwhile.
    }
  }
  return table
}

/** The fds open now that were not open (to the same thing) in `before`, as `fd -> target`. */
function newFds(before) {
  const out = []
  for (const [fd, target] of fdTable()) {
    if (before.get(fd) !== target) out.push(`${fd} -> ${target}`)
  }
  return out
}

/** The fds of `before` that are no longer open (to the same thing): something closed an fd it
 * did not own. */
function lostFds(before) {
  const now = fdTable()
  const out = []
  for (const [fd, target] of before) {
    if (now.get(fd) !== target && !target.startsWith('/proc/')) out.push(`${fd} -> ${target}`)
  }
  return out
}

/** A field of /proc/self/status, e.g. Threads, VmRSS (kB), VmHWM (kB). */
function statusField(name) {
  const text = fs.readFileSync('/proc/self/status', 'utf8')
  const match = new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)
  if (!match) throw new Error(`no ${name} in /proc/self/status`)
  return Number(match[1])
}

/** Threads of this process, as /proc/self/status says. */
function threadCount() {
  return statusField('Threads')
}

/** Resident set size now, in bytes. */
function rss() {
  return statusField('VmRSS') * 1024
}

/** The peak resident set size so far (VmHWM), in bytes. */
function peakRss() {
  return statusField('VmHWM') * 1024
}

/** [state, ppid, ...] of /proc/<pid>/stat after the command name; undefined once gone. */
function procStat(pid) {
  let text
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  return text.slice(text.lastIndexOf(')') + 2).trim().split(' ')
}

function procState(pid) {
  return procStat(pid)?.[0]
}

/** Every process whose parent is this one, with its state letter: `{ pid, state }`. */
function children() {
  const out = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = procStat(Number(name))
    if (stat && Number(stat[1]) === process.pid) out.push({ pid: Number(name), state: stat[0] })
  }
  return out
}

/** Children of this process that are zombies (state Z): exited but not reaped. */
function zombies() {
  return children().filter((c) => c.state === 'Z').map((c) => c.pid)
}

/** `pid state command` for a failed check's detail. */
function describePid(pid) {
  let cmd = '?'
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
  } catch {
    // Gone meanwhile.
  }
  return `${pid} ${procState(pid) ?? 'gone'} ${cmd}`
}

/**
 * Waits for an outside condition (the kernel removing a reaped child, the reactor thread
 * closing an fd): polls until it holds or a generous deadline passes. Never throws: the
 * caller checks the exact state afterwards, so a timeout shows up as a failed check with the
 * real values, never as a pass.
 */
async function waitFor(condition, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return condition()
}

/** Runs every pending finalizer and collects garbage, when node runs with --expose-gc. */
async function collectGarbage() {
  if (typeof global.gc !== 'function') return false
  for (let i = 0; i < 3; i++) {
    global.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return true
}

/** A snapshot of everything that may leak. */
function snapshot() {
  return { fds: fdCount(), threads: threadCount(), rss: rss(), children: children().length, zombies: zombies().length }
}

/** Keeps the minimum and maximum of each snapshot field over a run. */
class Range {
  constructor() {
    this.min = {}
    this.max = {}
    this.samples = 0
  }

  add(snap) {
    this.samples++
    for (const [key, value] of Object.entries(snap)) {
      this.min[key] = Math.min(this.min[key] ?? Infinity, value)
      this.max[key] = Math.max(this.max[key] ?? -Infinity, value)
    }
  }
}

/** A deterministic PRNG (mulberry32), so that a run can be repeated from its seed. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One check of a scenario: a name, whether it held, and what was seen. */
function check(name, ok, detail) {
  return detail === undefined ? { name, ok: Boolean(ok) } : { name, ok: Boolean(ok), detail }
}

module.exports = {
  fdCount,
  fdTable,
  newFds,
  lostFds,
  threadCount,
  rss,
  peakRss,
  procStat,
  procState,
  children,
  zombies,
  describePid,
  waitFor,
  collectGarbage,
  snapshot,
  Range,
  prng,
  check,
}
