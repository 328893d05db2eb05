'use strict'
// What every stress scenario shares: the library under test, its internal registry of active
// children (read only, to prove nothing stays registered), baselines and the final leak check.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const m = require('./measure')

const ROOT = path.join(__dirname, '..')
const pty = require(path.join(ROOT, 'dist', 'index.js'))
const events = require(path.join(ROOT, 'dist', 'lib', 'registry.js'))

/** A Python that starts fast (a pyenv shim on PATH would be a bash script). */
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

/** The strategy this process forks with (the library reads the same variable). */
function strategy() {
  return process.env.NAPI_PTY_STRATEGY === 'fork' ? 'fork' : 'clone-vfork'
}

/** Everything a readable stream gives until its end. */
async function collect(stream) {
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The same through 'data' and 'end' events (flowing mode, no destroy at the end). */
function collectFlowing(stream) {
  return new Promise((resolve, reject) => {
    const chunks = []
    stream.on('data', (chunk) => chunks.push(chunk))
    stream.once('end', () => resolve(Buffer.concat(chunks)))
    stream.once('error', reject)
  })
}

/** The same through 'readable' and read() (paused mode). */
function collectPaused(stream) {
  return new Promise((resolve, reject) => {
    const chunks = []
    stream.on('readable', () => {
      let chunk
      while ((chunk = stream.read()) !== null) chunks.push(chunk)
    })
    stream.once('end', () => resolve(Buffer.concat(chunks)))
    stream.once('error', reject)
  })
}

const READERS = [
  ['for await', collect],
  ['data events', collectFlowing],
  ['readable/read()', collectPaused],
]

/** Starts the reactor and the event sink and warms the code paths, so that their fds and
 * threads are part of every baseline. */
async function warmUp(count = 5) {
  for (let i = 0; i < count; i++) {
    const child = await pty.fork(['true'])
    await collect(child)
    await child.wait()
  }
  await m.collectGarbage()
}

/** What the process holds before a scenario: its fd table and a snapshot. */
function baseline() {
  return { table: m.fdTable(), snap: m.snapshot(), peakRss: m.peakRss() }
}

/**
 * Waits until the process is back to `base` (no new fd, no child, no thread more), then says
 * exactly what is left: the new fds, the children (zombies included), the thread count and
 * the children the library still counts as active.
 */
async function leftovers(base, { keepChildren = [], timeoutMs = 20000 } = {}) {
  const ours = () => m.children().filter((c) => !keepChildren.includes(c.pid))
  await m.collectGarbage()
  await m.waitFor(
    () => m.newFds(base.table).length === 0 && ours().length === 0 && m.threadCount() <= base.snap.threads,
    timeoutMs,
  )
  return {
    newFds: m.newFds(base.table),
    lostFds: m.lostFds(base.table),
    children: ours().map((c) => m.describePid(c.pid)),
    threads: m.threadCount(),
    active: events.active.size,
  }
}

/** The standard leak checks on what `leftovers` found. */
function leakChecks(left, base, prefix = '') {
  return [
    m.check(`${prefix}no fd left (fd table back to the baseline)`, left.newFds.length === 0 && left.lostFds.length === 0, {
      new: left.newFds,
      lost: left.lostFds,
    }),
    m.check(`${prefix}no child or zombie left`, left.children.length === 0, left.children),
    m.check(`${prefix}threads not grown`, left.threads <= base.snap.threads, { before: base.snap.threads, after: left.threads }),
    m.check(`${prefix}no child still registered as active`, left.active === 0, left.active),
  ]
}

/** A temporary directory of this process, removed at exit. */
function tempDir() {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-stress-')))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Counts failures but keeps only the first few details. */
class Failures {
  constructor(keep = 10) {
    this.count = 0
    this.first = []
    this.keep = keep
  }

  add(detail) {
    this.count++
    if (this.first.length < this.keep) this.first.push(detail)
  }
}

/** Milliseconds since `t0` (from performance.now()), rounded. */
function since(t0) {
  return Math.round(performance.now() - t0)
}

const MiB = 1 << 20

module.exports = {
  pty,
  events,
  m,
  PYTHON,
  ROOT,
  strategy,
  collect,
  collectFlowing,
  collectPaused,
  READERS,
  warmUp,
  baseline,
  leftovers,
  leakChecks,
  tempDir,
  Failures,
  since,
  MiB,
}
