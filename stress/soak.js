'use strict'
// Soak, load and no-lost-byte scenarios. Each returns a report: figures plus named checks.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const c = require('./common')

const { pty, m } = c

/** A shell line that prints one line naming the trial and exits with the given code. */
const ECHO_AND_EXIT = 'echo "$1 $2"; exit $3'

/**
 * The JS heap after GC must not grow over the second half of a long run: each child's
 * objects are collected. Too few children leave JIT warm-up in the figure, so only from 2,000
 * on (smaller runs report the figure without the check).
 */
function heapCheck(n, atHalf, after) {
  if (n < 2000) return []
  return [m.check('the JS heap (after GC) grows less than 2 MB over the second half', after - atHalf < 2e6, { atHalf, after })]
}

/** How many samples a run of `n` iterations takes (about 20, at least every iteration). */
function sampleEvery(n) {
  return Math.max(1, Math.floor(n / 20))
}

/** Figures of a memory series, in MB. */
function mb(bytes) {
  return Math.round((bytes / 1e6) * 10) / 10
}

/** What a soak samples as it goes: fds, threads, RSS and zombies every few children, and RSS
 * and heap after a GC at the half. */
class Sampler {
  constructor(n) {
    this.n = n
    this.every = sampleEvery(n)
    this.range = new m.Range()
    this.zombiesSeen = 0
    this.half = undefined
  }

  /** Called after child `i` is done. */
  async after(i) {
    if (i % this.every === 0 || i === this.n - 1) {
      const snap = m.snapshot()
      this.zombiesSeen += snap.zombies
      this.range.add(snap)
    }
    if (i === Math.floor(this.n / 2)) {
      await m.collectGarbage()
      this.half = { rss: m.rss(), heap: process.memoryUsage().heapUsed }
    }
  }
}

/**
 * `n` forks in sequence: each prints a line and exits with its own code, is read to its end
 * (three ways in turn) and awaited. fds, threads, RSS and zombies are sampled throughout.
 */
async function soakFork({ n = 10000 } = {}) {
  await c.warmUp()
  const base = c.baseline()
  const sampler = new Sampler(n)
  const failures = new c.Failures()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const code = (i * 7) % 256
    const [readerName, read] = c.READERS[i % c.READERS.length]
    const child = await pty.fork(['/bin/sh', '-c', ECHO_AND_EXIT, 'sh', 'fork', String(i), String(code)])
    let output
    let status
    if (i % 4 === 3) {
      // The exit first, the output after it: it is still all there.
      status = await child.wait()
      output = await read(child)
    } else {
      output = await read(child)
      status = await child.wait()
    }
    const expected = `fork ${i}\r\n`
    if (output.toString() !== expected || status.exitCode !== code || status.signal !== null || status.status !== code << 8) {
      failures.add({ i, reader: readerName, output: output.toString(), status })
    }
    await sampler.after(i)
  }
  const ms = c.since(t0)
  const left = await c.leftovers(base)
  const after = m.snapshot()
  await m.collectGarbage()
  const heapAfter = process.memoryUsage().heapUsed
  return {
    scenario: 'soak-fork',
    strategy: c.strategy(),
    figures: {
      trials: n,
      failures: failures.count,
      ms,
      perSecond: Math.round((n / ms) * 1000),
      fds: { before: base.snap.fds, duringMax: sampler.range.max.fds, after: after.fds },
      threads: { before: base.snap.threads, duringMax: sampler.range.max.threads, after: after.threads },
      rssMB: { before: mb(base.snap.rss), atHalf: mb(sampler.half.rss), duringMax: mb(sampler.range.max.rss), after: mb(after.rss) },
      heapUsedMB: { atHalf: mb(sampler.half.heap), after: mb(heapAfter) },
      registryLeft: c.events.byId.size,
      zombiesSeenAtSamples: sampler.zombiesSeen,
      samples: sampler.range.samples,
    },
    firstFailures: failures.first,
    checks: [
      m.check(`every exit status and every byte right (${n} children)`, failures.count === 0, failures.first),
      // One child at a time: its master, pidfd and exec-report pipe, possibly two children's
      // while the last one's are being closed by the reactor thread. Never growing with n.
      m.check('fds during the run stay within a few of the baseline', sampler.range.max.fds - base.snap.fds <= 8, {
        before: base.snap.fds,
        max: sampler.range.max.fds,
      }),
      m.check('threads never grow during the run', sampler.range.max.threads <= base.snap.threads, {
        before: base.snap.threads,
        max: sampler.range.max.threads,
      }),
      m.check('no zombie at any sample', sampler.zombiesSeen === 0, sampler.zombiesSeen),
      ...heapCheck(n, sampler.half.heap, heapAfter),
      ...c.leakChecks(left, base),
    ],
    rssGrowthMB: mb(after.rss - sampler.half.rss),
  }
}

/** Makes a FIFO and opens both ends: the read end non-blocking, the write end blocking. */
function fifo(dir, name) {
  const file = path.join(dir, name)
  require('node:child_process').execFileSync('mkfifo', [file])
  const read = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  const write = fs.openSync(file, fs.constants.O_WRONLY)
  return { read, write }
}

/** Reads what a non-blocking fd has now. */
function drain(fd) {
  const chunks = []
  const buf = Buffer.alloc(65536)
  for (;;) {
    let n
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null)
    } catch (err) {
      if (err.code === 'EAGAIN') break
      throw err
    }
    if (n === 0) break
    chunks.push(Buffer.from(buf.subarray(0, n)))
  }
  return Buffer.concat(chunks)
}

/** How many listeners `spawn` may add to `process` while it runs. */
function processListeners() {
  return ['exit', 'SIGTERM', 'SIGHUP', 'SIGINT', 'SIGWINCH', 'uncaughtExceptionMonitor'].reduce(
    (sum, name) => sum + process.listenerCount(name),
    0,
  )
}

/**
 * `n` spawns in sequence, with stdin and stdout on fds this process opens (never its own
 * terminal): stdout a FIFO or an append-only file, stdin /dev/null (end-of-file at once) or a
 * FIFO nobody writes to. Every exit status and every byte is checked.
 */
async function soakSpawn({ n = 10000 } = {}) {
  const dir = c.tempDir()
  const out = fifo(dir, 'out')
  const quiet = fifo(dir, 'in')
  const file = path.join(dir, 'file')
  const fileFd = fs.openSync(file, 'a')
  const devNull = fs.openSync('/dev/null', 'r')
  await c.warmUp()
  const before = m.fdTable()
  await pty.spawn(['true'], { stdin: devNull, stdout: fileFd })
  // spawn's own copies of stdin and stdout are closed by the reactor thread just after.
  await m.waitFor(() => m.newFds(before).length === 0)
  await m.collectGarbage()
  const base = c.baseline()
  const listenersBefore = processListeners()
  const sampler = new Sampler(n)
  const failures = new c.Failures()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const code = (i * 11) % 256
    const toFile = i % 2 === 1
    const stdin = (i >> 1) % 2 === 0 ? devNull : quiet.read
    const status = await pty.spawn(['/bin/sh', '-c', ECHO_AND_EXIT, 'sh', 'spawn', String(i), String(code)], {
      stdin,
      stdout: toFile ? fileFd : out.write,
    })
    let output
    if (toFile) {
      output = fs.readFileSync(file)
      fs.ftruncateSync(fileFd, 0)
    } else {
      output = drain(out.read)
    }
    const expected = `spawn ${i}\r\n`
    if (output.toString() !== expected || status.exitCode !== code || status.signal !== null) {
      failures.add({ i, stdout: toFile ? 'file' : 'fifo', stdin: stdin === devNull ? '/dev/null' : 'fifo', output: output.toString(), status })
    }
    await sampler.after(i)
  }
  const ms = c.since(t0)
  const left = await c.leftovers(base)
  const after = m.snapshot()
  await m.collectGarbage()
  const heapAfter = process.memoryUsage().heapUsed
  const listeners = processListeners() - listenersBefore
  return {
    scenario: 'soak-spawn',
    strategy: c.strategy(),
    figures: {
      trials: n,
      failures: failures.count,
      ms,
      perSecond: Math.round((n / ms) * 1000),
      fds: { before: base.snap.fds, duringMax: sampler.range.max.fds, after: after.fds },
      threads: { before: base.snap.threads, duringMax: sampler.range.max.threads, after: after.threads },
      rssMB: { before: mb(base.snap.rss), atHalf: mb(sampler.half.rss), duringMax: mb(sampler.range.max.rss), after: mb(after.rss) },
      heapUsedMB: { atHalf: mb(sampler.half.heap), after: mb(heapAfter) },
      registryLeft: c.events.byId.size,
      zombiesSeenAtSamples: sampler.zombiesSeen,
      processListenersLeft: listeners,
    },
    firstFailures: failures.first,
    checks: [
      m.check(`every exit status and every byte right (${n} spawns)`, failures.count === 0, failures.first),
      m.check('fds during the run stay within a few of the baseline', sampler.range.max.fds - base.snap.fds <= 12, {
        before: base.snap.fds,
        max: sampler.range.max.fds,
      }),
      m.check('threads never grow during the run', sampler.range.max.threads <= base.snap.threads, {
        before: base.snap.threads,
        max: sampler.range.max.threads,
      }),
      m.check('no zombie at any sample', sampler.zombiesSeen === 0, sampler.zombiesSeen),
      m.check('no process listener left by spawn (exit, signals, exceptions)', listeners === 0, listeners),
      ...heapCheck(n, sampler.half.heap, heapAfter),
      ...c.leakChecks(left, base),
    ],
    rssGrowthMB: mb(after.rss - sampler.half.rss),
  }
}

/** Resolves once `text` has appeared in what `child` printed (flowing mode). */
function reader(child) {
  const state = { text: '', ended: false }
  const waiters = []
  child.on('data', (chunk) => {
    state.text += chunk.toString()
    for (const w of waiters.splice(0)) w()
  })
  state.end = new Promise((resolve) =>
    child.once('end', () => {
      state.ended = true
      for (const w of waiters.splice(0)) w()
      resolve(state.text)
    }),
  )
  state.until = async (text) => {
    while (!state.text.includes(text)) {
      if (state.ended) throw new Error(`output ended without ${JSON.stringify(text)}: ${JSON.stringify(state.text)}`)
      await new Promise((resolve) => waiters.push(resolve))
    }
  }
  return state
}

/**
 * `n` children at once, all alive together: each prints `ready`, then sleeps in `read` until
 * we write it a line, prints it back and exits with its own code.
 */
async function load({ n = 1000 } = {}) {
  await c.warmUp()
  const base = c.baseline()
  const t0 = performance.now()
  const children = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      pty.fork(['/bin/sh', '-c', 'echo "ready $1"; read line; echo "bye $1 $line"; exit $2', 'sh', String(i), String(i % 256)]),
    ),
  )
  const readers = children.map(reader)
  await Promise.all(readers.map((r, i) => r.until(`ready ${i}\r\n`)))
  const forkMs = c.since(t0)
  // All alive together, each asleep in read(): measure now.
  const states = children.map((child) => m.procState(child.pid))
  const alive = states.filter((s) => s === 'S' || s === 'R').length
  await m.waitFor(() => (m.fdCount() - base.snap.fds) % n === 0, 5000)
  const during = m.snapshot()
  const fdsPerChild = (during.fds - base.snap.fds) / n
  const peak = m.peakRss()
  for (const child of children) child.write('go\n')
  const outputs = await Promise.all(readers.map((r) => r.end))
  const statuses = await Promise.all(children.map((child) => child.wait()))
  const ms = c.since(t0)
  const failures = new c.Failures()
  outputs.forEach((text, i) => {
    const expected = `ready ${i}\r\ngo\r\nbye ${i} go\r\n`
    const status = statuses[i]
    if (text !== expected || status.exitCode !== i % 256 || status.signal !== null) failures.add({ i, text, status })
  })
  const pids = new Set(children.map((child) => child.pid)).size
  const left = await c.leftovers(base)
  const after = m.snapshot()
  return {
    scenario: 'load',
    strategy: c.strategy(),
    figures: {
      children: n,
      aliveTogether: alive,
      distinctPids: pids,
      failures: failures.count,
      msUntilAllReady: forkMs,
      msTotal: ms,
      fds: { before: base.snap.fds, during: during.fds, perChild: fdsPerChild, after: after.fds },
      threads: { before: base.snap.threads, during: during.threads, after: after.threads },
      rssMB: { before: mb(base.snap.rss), during: mb(during.rss), peak: mb(peak), after: mb(after.rss) },
      rssPerChildKB: Math.round((during.rss - base.snap.rss) / n / 1024),
    },
    firstFailures: failures.first,
    checks: [
      m.check(`all ${n} children alive together`, alive === n && pids === n, { alive, pids }),
      m.check('every output and exit status delivered and right', failures.count === 0, failures.first),
      m.check('the thread count does not grow with the children', during.threads <= base.snap.threads, {
        before: base.snap.threads,
        during: during.threads,
      }),
      m.check('a fixed whole number of fds per child', Number.isInteger(fdsPerChild) && fdsPerChild > 0 && fdsPerChild <= 3, fdsPerChild),
      ...c.leakChecks(left, base),
    ],
  }
}

/** The child of the no-lost-byte trials: writes `n` random bytes with no \n or \r (the
 * terminal would turn \n into \r\n) and exits at once, leaving their length and SHA-256 in a
 * side file written before the first byte. */
const GENERATOR = [
  'import os, sys, hashlib',
  'n = int(sys.argv[1])',
  "d = os.urandom(n).translate(bytes.maketrans(b'\\n\\r', b'NR'))",
  "with open(sys.argv[2], 'w') as f: f.write('%d %s' % (n, hashlib.sha256(d).hexdigest()))",
  'v = memoryview(d)',
  'while v: v = v[os.write(1, v):]',
  'os._exit(0)',
].join('\n')

/**
 * `trials` children each write a random number of bytes (1 B to 1 MiB; log-uniform half the
 * time, so small sizes are well represented) and exit at once; the bytes received must have
 * the length and the SHA-256 the child reported. `concurrency` trials run at a time.
 */
async function bytes({ trials = 2000, seed = 1, concurrency = 2, maxSize = c.MiB } = {}) {
  const dir = c.tempDir()
  await c.warmUp()
  const base = c.baseline()
  const random = m.prng(seed)
  const sizes = Array.from({ length: trials }, (_, i) => {
    if (i === 0) return 1
    if (i === 1) return maxSize
    const r = random()
    return random() < 0.5 ? Math.max(1, Math.round(Math.exp(r * Math.log(maxSize)))) : 1 + Math.floor(r * maxSize)
  })
  const failures = new c.Failures()
  let next = 0
  let total = 0
  const t0 = performance.now()
  async function lane(k) {
    const side = path.join(dir, `side-${k}`)
    while (next < trials) {
      const i = next++
      const size = sizes[i]
      const [readerName, read] = c.READERS[i % c.READERS.length]
      const child = await pty.fork([c.PYTHON, '-I', '-S', '-c', GENERATOR, String(size), side])
      const got = await read(child)
      const status = await child.wait()
      const [lenText, digest] = fs.readFileSync(side, 'utf8').split(' ')
      const gotDigest = crypto.createHash('sha256').update(got).digest('hex')
      total += got.length
      if (Number(lenText) !== size || got.length !== size || gotDigest !== digest || status.status !== 0) {
        failures.add({ i, size, received: got.length, reader: readerName, digestMatch: gotDigest === digest, status })
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, k) => lane(k)))
  const ms = c.since(t0)
  const left = await c.leftovers(base)
  const sorted = [...sizes].sort((a, b) => a - b)
  return {
    scenario: 'bytes',
    strategy: c.strategy(),
    figures: {
      trials,
      seed,
      failures: failures.count,
      bytesReceived: total,
      bytesExpected: sizes.reduce((a, b) => a + b, 0),
      sizeMin: sorted[0],
      sizeMedian: sorted[Math.floor(trials / 2)],
      sizeMax: sorted[trials - 1],
      trialsUnder4KiB: sizes.filter((s) => s < 4096).length,
      ms,
      MBps: Math.round(total / 1e3 / ms),
    },
    firstFailures: failures.first,
    checks: [
      m.check(`every byte of ${trials} trials received (length and SHA-256)`, failures.count === 0, failures.first),
      ...c.leakChecks(left, base),
    ],
  }
}

module.exports = { soakFork, soakSpawn, load, bytes }
