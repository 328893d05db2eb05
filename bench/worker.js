'use strict'
// One benchmark process for a Node peer: runs one scenario with one peer and prints its figures
// as one JSON line on stdout. Started by run.js, one fresh process per scenario × peer × rep.
//
// usage: node bench/worker.js '{"peer": "napi-pty", "scenario": "throughput", "params": {...}}'

const fs = require('node:fs')
const path = require('node:path')
const { performance } = require('node:perf_hooks')

const job = JSON.parse(process.argv[2])
const { params } = job

const now = () => performance.now()
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const maxRssKiB = () => process.resourceUsage().maxRSS
// CPU of the thread this runs on, the event loop's (Linux: the scheduler's own count, in ns).
const loopMs = () => Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6

// CPU of this process's thread named `comm` (as the kernel truncates names: 15 bytes), in ms,
// as loopMs counts it; 0 while there is none. For napi-pty: its reactor, the thread that reads,
// which the report sets beside the reading thread of the C programs.
function threadMs(comm) {
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== comm) continue
      return Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
    } catch {
      // the thread ended since the listing
    }
  }
  return 0
}
const reactorMs = () => (job.peer.startsWith('napi-pty') ? threadMs('napi-pty-reacto') : undefined)

function statusField(key) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))
  return m ? Number(m[1]) : 0
}
// readdir opens one fd of its own on /proc/self/fd: not counted.
const fdCount = () => fs.readdirSync('/proc/self/fd').length - 1
const snapshot = () => ({ threads: statusField('Threads'), fds: fdCount(), rssKiB: statusField('VmRSS') })

// ---------------------------------------------------------------------------------------------
// Peers. Each starts one child and reports its output and its exit through `on`:
//   start(argv, { data(buffer), exit() }) → Promise (resolves once the peer says it started)

const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined))

function napiPty() {
  const { fork } = require('../dist/index.js')
  const { readPath } = require('../dist/lib/native.js')
  return {
    async start(argv, on) {
      const child = await fork(argv, { cols: 80, rows: 24 })
      // Each row measures the path it names: asked for io_uring (or epoll), a process that read
      // otherwise fails the job. The default row reads as the kernel allows (io_uring if granted).
      const asked = process.env.NAPI_PTY_READ
      if ((asked === 'uring' || asked === 'epoll') && readPath() !== asked) throw new Error(`NAPI_PTY_READ=${asked}, but the reactor reads with ${readPath()}`)
      child.on('data', on.data)
      child.once('exit', () => on.exit())
      return child
    },
  }
}

function nodePty(name) {
  const pty = require(name)
  return {
    async start(argv, on) {
      const child = pty.spawn(argv[0], argv.slice(1), { name: 'xterm-256color', cols: 80, rows: 24, cwd: process.cwd(), env, encoding: null })
      child.onData(on.data)
      child.onExit(() => on.exit())
      return child
    },
  }
}

function ruspty() {
  const { Pty } = require('@replit/ruspty')
  return {
    async start(argv, on) {
      const child = new Pty({ command: argv[0], args: argv.slice(1), envs: env, size: { cols: 80, rows: 24 }, onExit: () => on.exit() })
      child.read.on('data', on.data)
      child.read.on('error', () => {})
      return child
    },
  }
}

// Not a pty: Node's own child_process, the child's output through one pipe. What Node itself
// costs to run children and hear of their exits, whichever pty library is used (idle only).
function childProcess() {
  const { spawn } = require('node:child_process')
  return {
    start(argv, on) {
      return new Promise((resolve, reject) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] })
        child.stdout.on('data', on.data)
        // 'close': the exit and the end of the output, as the pty peers report them.
        child.once('close', () => on.exit())
        child.once('spawn', () => resolve(child))
        child.once('error', reject)
      })
    },
  }
}

const PEERS = {
  'napi-pty': napiPty,
  'napi-pty-forkpath': napiPty, // the same code; run.js sets NAPI_PTY_STRATEGY=fork
  'napi-pty-epoll': napiPty, // the same code; run.js sets NAPI_PTY_READ=epoll
  'node-pty': () => nodePty('node-pty'),
  // By the package's own name: what a switching user requires.
  'napi-pty-node-pty': () => nodePty('napi-pty/node-pty'),
  'lydell-node-pty': () => nodePty('@lydell/node-pty'),
  ruspty,
  'node-child-process': childProcess,
}

// napi-pty's spawn(): the native copy loop from the master to an fd; no JavaScript on the data path.
function napiSpawnPath() {
  const { spawn } = require('../dist/index.js')
  const stdin = fs.openSync('/dev/null', 'r')
  return {
    /** Runs argv with its output going to `fd`; resolves with the time of completion. */
    async run(argv, fd) {
      const t0 = now()
      const status = await spawn(argv, { stdin, stdout: fd, cols: 80, rows: 24 })
      return { t0, exit: now(), status }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// One child, start to finish.

/** How long after the exit is reported we still wait for bytes that are short (lost-at-exit). */
const LATE_GRACE_MS = 50

/**
 * Runs argv to its reported exit. Times are ms from just before the peer's start call. When
 * `expected` is given and fewer bytes have arrived at the exit, waits up to LATE_GRACE_MS more
 * for them (so a peer that merely reports the exit before the last data is not counted as
 * losing it).
 */
function runOne(peer, argv, expected) {
  return new Promise((resolve, reject) => {
    const r = { t0: now(), first: undefined, last: undefined, exit: undefined, bytes: 0, chunks: undefined }
    let grace
    const finish = () => {
      clearTimeout(grace)
      resolve(r)
    }
    const on = {
      data(buf) {
        const t = now()
        if (r.first === undefined) r.first = t
        r.last = t
        r.bytes += buf.length
        if (r.exit !== undefined && expected !== undefined && r.bytes >= expected) finish()
      },
      exit() {
        r.exit = now()
        if (expected === undefined || r.bytes >= expected) finish()
        else grace = setTimeout(finish, LATE_GRACE_MS)
      },
    }
    peer.start(argv, on).catch(reject)
  })
}

// ---------------------------------------------------------------------------------------------
// Scenarios

function touchMemory(gib) {
  const keep = []
  const chunk = 256 << 20
  for (let left = Math.round(gib * 1024 ** 3); left > 0; left -= chunk) {
    keep.push(Buffer.allocUnsafeSlow(Math.min(chunk, left)).fill(1))
  }
  return keep
}

async function throughput(peer) {
  const n = params.bytes
  const argv = ['head', '-c', String(n), '/dev/zero']
  if (job.peer === 'napi-pty-spawn') {
    const file = path.join(params.tmpdir, `napi-pty-spawn-${process.pid}.out`)
    const fd = fs.openSync(file, 'w')
    const c0 = cpuMs()
    const l0 = loopMs()
    const t0 = reactorMs()
    const r = await peer.run(argv, fd)
    const cpu = cpuMs() - c0
    const loop = loopMs() - l0
    const readerMs = reactorMs() - t0
    const bytes = fs.fstatSync(fd).size
    fs.closeSync(fd)
    fs.unlinkSync(file)
    return { bytes, expectedBytes: n, ms: r.exit - r.t0, exitMs: r.exit - r.t0, cpuMs: cpu, loopMs: loop, readerMs }
  }
  const c0 = cpuMs()
  const l0 = loopMs()
  const t0 = reactorMs()
  const r = await runOne(peer, argv, n)
  const cpu = cpuMs() - c0
  const loop = loopMs() - l0
  const readerMs = t0 === undefined ? undefined : reactorMs() - t0
  return { bytes: r.bytes, expectedBytes: n, ms: (r.last ?? r.exit) - r.t0, exitMs: r.exit - r.t0, cpuMs: cpu, loopMs: loop, readerMs }
}

async function spawnLatency(peer) {
  const keep = touchMemory(params.gib ?? 0)
  const samples = []
  // One untimed spawn first (every peer does one): loading code and lazy set-up are not spawns.
  if (job.peer === 'napi-pty-spawn') {
    const fd = fs.openSync('/dev/null', 'w')
    for (let i = -1; i < params.spawns; i++) {
      const r = await peer.run(['true'], fd)
      if (i >= 0) samples.push(r.exit - r.t0)
    }
  } else {
    for (let i = -1; i < params.spawns; i++) {
      const r = await runOne(peer, ['true'])
      if (i >= 0) samples.push(r.exit - r.t0)
    }
  }
  keep.length = 0
  return { samples }
}

async function firstByte(peer) {
  const samples = []
  const bytes = []
  for (let i = -1; i < params.spawns; i++) {
    const r = await runOne(peer, ['echo', 'hi'], 4)
    if (i < 0) continue // untimed, as in spawnLatency
    samples.push((r.first ?? r.exit) - r.t0)
    bytes.push(r.bytes)
  }
  return { samples, bytes, expectedBytes: 4 }
}

async function lostAtExit(peer) {
  const n = params.bytes
  const argv = ['head', '-c', String(n), '/dev/zero']
  let lost = 0
  let lostBytes = 0
  if (job.peer === 'napi-pty-spawn') {
    // Every trial appends to one file: each must grow it by exactly n bytes.
    const file = path.join(params.tmpdir, `napi-pty-spawn-lost-${process.pid}.out`)
    const fd = fs.openSync(file, 'a')
    let size = 0
    for (let i = 0; i < params.trials; i++) {
      await peer.run(argv, fd)
      const grown = fs.fstatSync(fd).size - size
      size += grown
      if (grown !== n) {
        lost++
        lostBytes += n - grown
      }
    }
    fs.closeSync(fd)
    fs.unlinkSync(file)
  } else {
    for (let i = 0; i < params.trials; i++) {
      const r = await runOne(peer, argv, n)
      if (r.bytes !== n) {
        lost++
        lostBytes += n - r.bytes
      }
    }
  }
  return { trials: params.trials, lost, lostBytes }
}

/**
 * Starts params.children children at once; waits for every exit. Threads, fds and RSS are
 * looked at here before the first child and once all have started; run.js also samples them
 * from outside every 20 ms (a synchronous spawn loop would keep a timer in here from running).
 */
async function many(peer, argv) {
  const n = params.children
  const base = snapshot()
  const peak = { ...base }
  const look = () => {
    const s = snapshot()
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], s[k])
  }
  const outputs = []
  let exits = 0
  let allExited
  const done = new Promise((resolve) => (allExited = resolve))
  const t0 = now()
  const c0 = cpuMs()
  const started = []
  for (let i = 0; i < n; i++) {
    const chunks = []
    outputs.push(chunks)
    started.push(
      peer.start(argv, {
        data: (b) => chunks.push(b),
        exit: () => {
          if (++exits === n) allExited()
        },
      }),
    )
  }
  const results = await Promise.allSettled(started)
  const tSpawned = now()
  look() // before the CPU window of the idle scenario opens
  const cSpawned = cpuMs()
  const failed = results.filter((r) => r.status === 'rejected')
  if (failed.length) {
    throw new Error(`${failed.length} of ${n} children failed to start: ${failed[0].reason?.message ?? failed[0].reason}`)
  }
  await done
  const tEnd = now()
  const cEnd = cpuMs()
  const ready = outputs.filter((chunks) => Buffer.concat(chunks).includes('ready')).length
  return {
    children: n,
    ready,
    exits,
    wallMs: tEnd - t0,
    spawnMs: tSpawned - t0,
    cpuSpawnMs: cSpawned - c0,
    cpuWindowMs: cEnd - cSpawned,
    base,
    peak,
  }
}

async function concurrency(peer) {
  return many(peer, ['sh', '-c', `echo ready; sleep ${params.sleep}`])
}

async function idle(peer) {
  const r = await many(peer, ['sleep', String(params.sleep)])
  r.ready = r.exits
  return r
}

// A child floods params.mib MiB of text in the 256 colours (12 coloured words per line,
// written in 64 KiB blocks). The parent reads the stream alone, then reads it and feeds a
// Screen, which parses every byte.
const FLOOD = `
import os
line = lambda i: ''.join('\\x1b[38;5;%dmword\\x1b[0m ' % ((i * 7 + j) % 256) for j in range(12)) + '\\n'
block = ''.join(line(i) for i in range(4096)).encode()[:65536]
for _ in range(int(os.environ['FLOOD_MIB']) * 16):
    view = memoryview(block)
    while view:
        view = view[os.write(1, view):]
`

async function screenFlood() {
  // The package's entry point, wherever its build puts it.
  const { fork } = require(path.join(__dirname, '..'))
  const once = async (withScreen) => {
    const c0 = cpuMs()
    const t0 = performance.now()
    const child = await fork(['python3', '-c', FLOOD], { cols: 120, rows: 40, env: { ...process.env, FLOOD_MIB: String(params.mib) } })
    let bytes = 0
    child.on('data', (chunk) => (bytes += chunk.length))
    const screen = withScreen ? child.screen() : undefined
    await child.wait()
    // Done when the Screen has parsed the last byte, not when the stream has delivered it.
    if (screen) await screen.flush()
    const result = { bytes, ms: performance.now() - t0, cpuMs: cpuMs() - c0 }
    screen?.dispose()
    return result
  }
  const stream = await once(false)
  const screen = await once(true)
  return { stream, screen }
}

const SCENARIOS = {
  throughput,
  spawn: spawnLatency,
  bigparent: spawnLatency,
  firstbyte: firstByte,
  lost: lostAtExit,
  concurrency,
  idle,
  screen: screenFlood,
}

async function main() {
  const peer = job.peer === 'napi-pty-spawn' ? napiSpawnPath() : PEERS[job.peer]()
  const result = await SCENARIOS[job.scenario](peer)
  result.maxRssKiB = maxRssKiB()
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0))
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err?.stack ?? err) }) + '\n', () => process.exit(1))
})
