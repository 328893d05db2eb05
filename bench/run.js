#!/usr/bin/env node
'use strict'
// The benchmark of issue 6: every scenario for napi-pty and each peer in one run, each
// scenario × peer × repetition in a fresh process with a timeout, the order of the peers
// alternating between repetitions. Writes a Markdown table of medians and ratios (stdout and
// RESULTS.md), the raw figures (RESULTS.json) and a chart of spawn latency against parent
// memory (RESULTS.svg), generated from the JSON.
//
//   npm run bench                     full run → bench/results/latest.{md,json,svg}
//   npm run bench -- --quick          small sizes, under 2 minutes → bench/results/quick.*
//   node bench/run.js --only=spawn,firstbyte --peers=napi-pty,c-forkpty --quick
//   node bench/run.js --report bench/results/latest.json    (re-render md and svg from a JSON)
//
// It asserts nothing about time: it exits 0 whenever it wrote its report, and says which
// peers failed (wrong byte counts, crashes, timeouts) in the report itself.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { summarize, markdown } = require('./report.js')

const ROOT = path.resolve(__dirname, '..')
const BENCH = __dirname
const BUILD = path.join(BENCH, 'build')
const RESULTS = path.join(BENCH, 'results')

// ---------------------------------------------------------------------------------------------
// Command line

const args = process.argv.slice(2)
const flag = (name) => args.includes(`--${name}`)
const option = (name) => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  return args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1]
}
const QUICK = flag('quick')
const list = (v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined)

// ---------------------------------------------------------------------------------------------
// Peers

const PEERS = [
  { key: 'napi-pty', label: 'napi-pty', kind: 'node' },
  { key: 'napi-pty-spawn', label: 'napi-pty spawn()', kind: 'node' },
  { key: 'napi-pty-forkpath', label: 'napi-pty (fork path)', kind: 'node', env: { NAPI_PTY_STRATEGY: 'fork' } },
  // The reactor reading with epoll and read(2), the fallback where io_uring is refused (the
  // default, `napi-pty`, reads through io_uring; src/reactor/uring.rs).
  { key: 'napi-pty-epoll', label: 'napi-pty (epoll)', kind: 'node', env: { NAPI_PTY_READ: 'epoll' } },
  { key: 'node-pty', label: 'node-pty', kind: 'node', module: 'node-pty' },
  // node-pty's API over napi-pty (the `napi-pty/node-pty` export), run by the same code as node-pty.
  { key: 'napi-pty-node-pty', label: 'napi-pty/node-pty', kind: 'node' },
  { key: 'lydell-node-pty', label: '@lydell/node-pty', kind: 'node', module: '@lydell/node-pty' },
  { key: 'ruspty', label: '@replit/ruspty', kind: 'node', module: '@replit/ruspty' },
  { key: 'python-fork', label: 'Python pty.fork', kind: 'python' },
  { key: 'python-spawn', label: 'Python pty.spawn', kind: 'python' },
  { key: 'c-forkpty', label: 'C forkpty (reference)', kind: 'c' },
  // The same, writing each read to a file: what `spawn()` to a file is compared with as well.
  { key: 'c-forkpty-file', label: 'C forkpty → file', kind: 'c', env: { FORKPTY_OUT_DIR: os.tmpdir() } },
  // One thread reads, another receives each chunk (bench/peers/handoff.c): the floor of the
  // design napi-pty's reactor and JS thread share, measured beside it.
  { key: 'c-handoff', label: 'C reader + receiver thread', kind: 'c', program: 'handoff' },
  // One thread, no read(2): an io_uring multishot read into provided 124 KiB buffers
  // (bench/peers/uring.c), what moving the reactor to io_uring would save at best.
  { key: 'c-uring', label: 'C io_uring multishot reader', kind: 'c', program: 'uring' },
  // The same reader handing each chunk to a second thread, as handoff.c does on epoll.
  { key: 'c-uring-receiver', label: 'C io_uring reader + receiver thread', kind: 'c', program: 'uring', env: { URING_RECEIVER: '1' } },
  // The same, its receiver spending on each chunk the CPU that the napi-pty process just before
  // it (same repetition) spent beside its reader: the JS thread and V8's helpers. What the
  // two-thread design reads at once it carries Node's own cost, with none of napi-pty's code.
  { key: 'c-uring-js-cost', label: 'C io_uring reader + receiver at the JS side’s cost', kind: 'c', program: 'uring', env: { URING_RECEIVER: '1' }, mirrors: 'napi-pty' },
  // Not a pty: Node's own child_process with the output through a pipe (idle only), what Node
  // costs to hear of children's exits whatever the library.
  { key: 'node-child-process', label: 'Node child_process, no pty', kind: 'node' },
]

// ---------------------------------------------------------------------------------------------
// Scenarios. `peers` lists who takes part; `reps` processes per peer (and variant), samples of
// one peer pooled across its processes; `timeout` per process, in seconds.

const MiB = 1 << 20
const ALL_NODE = ['napi-pty', 'node-pty', 'lydell-node-pty', 'ruspty']
const ALL_SINGLE = [...ALL_NODE, 'python-fork', 'python-spawn', 'c-forkpty']

function scenarios(quick) {
  return [
    {
      key: 'throughput',
      title: '1. Throughput',
      peers: ['napi-pty', 'napi-pty-epoll', 'napi-pty-spawn', ...ALL_SINGLE.slice(1), 'c-forkpty-file', 'c-handoff', 'c-uring', 'c-uring-receiver', 'c-uring-js-cost'],
      // Issue 26 judges the stream on the median of at least 7 alternating processes.
      reps: quick ? 1 : 7,
      timeout: quick ? 60 : 300,
      params: { bytes: quick ? 16 * MiB : 256 * MiB },
    },
    {
      key: 'spawn',
      title: '2. Spawn latency',
      peers: ['napi-pty', 'napi-pty-spawn', ...ALL_SINGLE.slice(1)],
      reps: quick ? 1 : 3,
      timeout: quick ? 60 : 300,
      params: { spawns: quick ? 20 : 200 },
    },
    {
      key: 'bigparent',
      title: '3. Spawn latency with a big parent',
      peers: ['napi-pty', 'napi-pty-forkpath', ...ALL_SINGLE.slice(1)],
      reps: quick ? 1 : 2,
      timeout: quick ? 60 : 600,
      variants: (quick ? [0, 1] : [0, 1, 2, 4]).map((gib) => ({ gib })),
      params: { spawns: quick ? 20 : 100 },
    },
    {
      key: 'firstbyte',
      title: '4. First byte',
      peers: ALL_SINGLE,
      reps: quick ? 1 : 3,
      timeout: quick ? 60 : 300,
      params: { spawns: quick ? 20 : 100 },
    },
    {
      key: 'lost',
      title: '5. Lost at exit',
      peers: ['napi-pty', 'napi-pty-spawn', 'napi-pty-node-pty', ...ALL_SINGLE.slice(1)],
      reps: quick ? 1 : 2,
      timeout: quick ? 60 : 600,
      params: { trials: quick ? 50 : 1000, bytes: 100000 },
    },
    {
      key: 'concurrency',
      title: '6. Concurrency',
      peers: [...ALL_NODE, 'python-fork', 'c-forkpty'],
      reps: quick ? 1 : 2,
      timeout: quick ? 60 : 300,
      params: { children: quick ? 100 : 1000, sleep: quick ? 1 : 2 },
    },
    {
      key: 'screen',
      title: '8. Screen',
      peers: ['napi-pty'],
      reps: quick ? 1 : 3,
      timeout: quick ? 60 : 300,
      params: { mib: quick ? 16 : 64 },
    },
    {
      key: 'idle',
      title: '7. Idle',
      peers: [...ALL_NODE, 'python-fork', 'c-forkpty', 'node-child-process'],
      reps: quick ? 1 : 5,
      timeout: quick ? 60 : 120,
      params: { children: 50, sleep: quick ? 1 : 5 },
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Availability of each peer on this machine

function checkPeers(selected) {
  const status = {}
  const nodeModulesOk = (mod) => {
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(mod)})`], { cwd: ROOT, encoding: 'utf8', timeout: 30000 })
    return r.status === 0 ? undefined : (r.stderr || r.error?.message || 'failed to load').trim().split('\n').find((l) => /Error|error/.test(l)) || 'failed to load'
  }
  // Several peers run the same C program: it is compiled (and probed) once.
  const built = new Map()
  const build = (program = 'forkpty') => {
    if (!built.has(program)) built.set(program, buildC(program))
    return built.get(program)
  }
  let napiReason
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) napiReason = 'not built (run npm run build)'
  else napiReason = nodeModulesOk(path.join(ROOT, 'dist', 'index.js'))
  for (const peer of PEERS) {
    if (!selected.includes(peer.key)) continue
    let reason
    if (peer.key.startsWith('napi-pty')) reason = napiReason
    else if (peer.kind === 'node' && peer.module) {
      reason = nodeModulesOk(peer.module)
      // node-pty ships no Linux binary and npm may not have run its install script: build it
      // once from source (node-gyp), then look again.
      if (reason && peer.module === 'node-pty') {
        spawnSync('npm', ['rebuild', 'node-pty'], { cwd: ROOT, stdio: 'ignore', timeout: 300000 })
        reason = nodeModulesOk(peer.module)
      }
    }
    else if (peer.kind === 'python') {
      const r = spawnSync('python3', ['-c', 'import pty, select, resource'], { encoding: 'utf8' })
      reason = r.status === 0 ? undefined : `python3 unavailable: ${(r.stderr || r.error?.message || '').trim()}`
    } else if (peer.kind === 'c') reason = build(peer.program)
    // A row that mirrors another peer's processes has nothing to mirror without them.
    if (!reason && peer.mirrors && !selected.includes(peer.mirrors)) reason = `mirrors ${peer.mirrors}, which this run leaves out`
    status[peer.key] = { label: peer.label, available: !reason, reason }
  }
  return status
}

/** Compiles a C program of bench/peers into bench/build; returns why not, if it cannot. */
function buildC(program = 'forkpty') {
  fs.mkdirSync(BUILD, { recursive: true })
  const out = path.join(BUILD, program)
  const r = spawnSync(process.env.CC || 'cc', ['-O2', '-pthread', '-o', out, path.join(BENCH, 'peers', `${program}.c`), '-lutil'], { encoding: 'utf8' })
  if (r.status !== 0) return `cc failed: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`
  if (program === 'uring') {
    // A kernel before 6.12, or a sandbox that refuses io_uring: say so rather than fail each run.
    const probe = spawnSync(out, ['true'], { encoding: 'utf8' })
    if (probe.status !== 0) return (probe.stderr || probe.error?.message || 'io_uring refused').trim().split('\n')[0]
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Running one job

function commandFor(peer, scenario, params) {
  if (peer.kind === 'node') {
    return [process.execPath, [path.join(BENCH, 'worker.js'), JSON.stringify({ peer: peer.key, scenario, params })]]
  }
  if (peer.kind === 'python') {
    return ['python3', [path.join(BENCH, 'peers', 'python_pty.py'), JSON.stringify({ peer: peer.key, scenario, params })]]
  }
  if (peer.program === 'handoff' || peer.program === 'uring') {
    if (scenario !== 'throughput') throw new Error(`no ${peer.key} command for ${scenario}`)
    return [path.join(BUILD, peer.program), ['head', '-c', String(params.bytes), '/dev/zero']]
  }
  // The C reference: forkpty MIB RUNS CONC PROGRAM [ARG...]
  const bin = path.join(BUILD, 'forkpty')
  const c = (mib, runs, conc, ...argv) => [bin, [String(mib), String(runs), String(conc), ...argv]]
  switch (scenario) {
    case 'throughput':
      return c(0, 1, 1, 'head', '-c', String(params.bytes), '/dev/zero')
    // One run more than asked: the first is untimed (parseC drops it), as for every peer.
    case 'spawn':
    case 'bigparent':
      return c(Math.round((params.gib ?? 0) * 1024), params.spawns + 1, 1, 'true')
    case 'firstbyte':
      return c(0, params.spawns + 1, 1, 'echo', 'hi')
    case 'lost':
      return c(0, params.trials, 1, 'head', '-c', String(params.bytes), '/dev/zero')
    case 'concurrency':
      return c(0, 1, params.children, 'sh', '-c', `echo ready; sleep ${params.sleep}`)
    case 'idle':
      return c(0, 1, params.children, 'sleep', String(params.sleep))
  }
  throw new Error(`no C command for ${scenario}`)
}

/** Turns the C reference's JSON lines into the figures the other peers report. */
function parseC(scenario, params, stdout) {
  const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  const children = lines.filter((l) => 'child' in l)
  const runs = lines.filter((l) => !('child' in l))
  const maxRssKiB = Math.max(0, ...runs.map((r) => r.maxRssKiB))
  switch (scenario) {
    case 'throughput': {
      const [ch] = children
      const [run] = runs
      // A program with no reader thread of its own (forkpty.c) reads on its only thread.
      const readerMs = run.readerCpu ?? run.cpuWindow
      return { bytes: ch.bytes, expectedBytes: params.bytes, ms: ch.exit, exitMs: ch.exit, cpuMs: run.cpuSpawn + run.cpuWindow, readerMs, maxRssKiB }
    }
    case 'spawn':
    case 'bigparent':
      return { samples: children.slice(1).map((c) => c.exit), maxRssKiB }
    case 'firstbyte':
      return { samples: children.slice(1).map((c) => c.first), bytes: children.slice(1).map((c) => c.bytes), expectedBytes: 4, maxRssKiB }
    case 'lost': {
      const short = children.filter((c) => c.bytes !== params.bytes)
      if (children.length !== params.trials) throw new Error(`${children.length} of ${params.trials} trials reported`)
      return { trials: params.trials, lost: short.length, lostBytes: short.reduce((s, c) => s + params.bytes - c.bytes, 0), maxRssKiB }
    }
    case 'concurrency':
    case 'idle': {
      const [run] = runs
      const ready = scenario === 'idle' ? children.length : children.filter((c) => c.bytes === 'ready\r\n'.length).length
      return {
        children: params.children,
        ready,
        exits: children.length,
        wallMs: run.wall,
        spawnMs: run.spawned,
        cpuSpawnMs: run.cpuSpawn,
        cpuWindowMs: run.cpuWindow,
        maxRssKiB,
      }
    }
  }
  throw new Error(`no C parser for ${scenario}`)
}

function runJob(peer, scenario, params, timeoutS) {
  return new Promise((resolve) => {
    const [cmd, argv] = commandFor(peer, scenario, params)
    const env = { ...process.env, ...(peer.env || {}) }
    if (!peer.env?.NAPI_PTY_STRATEGY) delete env.NAPI_PTY_STRATEGY
    if (!peer.env?.NAPI_PTY_READ) delete env.NAPI_PTY_READ
    const started = Date.now()
    // Its own process group, so a timeout takes down the benchmark and its children at once.
    const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
    // Threads, fds and RSS of the benchmark process, sampled from outside every 20 ms (costs it
    // no CPU, and runs while a synchronous spawn loop blocks its own timers).
    const outside = SAMPLED.includes(scenario) ? { threads: 0, fds: 0, rssKiB: 0, samples: 0 } : undefined
    const sampler = outside && setInterval(() => sampleProc(child.pid, outside), 20)
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, timeoutS * 1000)
    const done = (code, signal, spawnError) => {
      clearTimeout(timer)
      clearInterval(sampler)
      const elapsedMs = Date.now() - started
      const fail = (error) => resolve({ ok: false, error, elapsedMs })
      if (spawnError) return fail(`could not start: ${spawnError.message}`)
      if (timedOut) return fail(`timed out after ${timeoutS} s`)
      let data
      try {
        if (peer.kind === 'c') {
          if (code !== 0) throw new Error(`exited with ${signal ?? code}: ${stderr.trim().split('\n').pop() ?? ''}`)
          data = parseC(scenario, params, stdout)
        } else {
          const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()
          if (!line) throw new Error(`exited with ${signal ?? code} and no result: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)
          data = JSON.parse(line)
          if (data.error) throw new Error(data.error.split('\n').slice(0, 3).join(' | '))
        }
      } catch (err) {
        return fail(err.message)
      }
      if (outside) {
        // The C reference opens nothing before its children: 1 thread, fds 0, 1 and 2.
        data.base ??= { threads: 1, fds: 3, rssKiB: undefined }
        data.peak ??= { threads: 0, fds: 0, rssKiB: 0 }
        for (const k of ['threads', 'fds', 'rssKiB']) data.peak[k] = Math.max(data.peak[k] ?? 0, outside[k])
        data.outsideSamples = outside.samples
      }
      const problem = checkData(scenario, params, data)
      resolve({ ok: !problem, error: problem, data, elapsedMs })
    }
    child.on('error', (err) => done(null, null, err))
    child.on('close', (code, signal) => done(code, signal))
  })
}

/** The 124 KiB chunks napi-pty gathers its output into (DELIVERY_CHUNK), as uring.c's buffers. */
const CHUNK_BYTES = 124 * 1024

/**
 * Runs a peer that mirrors the process of its source peer just before it, in the same
 * repetition: uring.c's receiver spends, per chunk, what that process spent beside its reader.
 */
function runMirror(peer, job, results) {
  const source = results.findLast((r) => r.scenario === job.scenario && r.peer === peer.mirrors && r.rep === job.rep)
  if (!source?.ok || !(source.data.readerMs >= 0)) return { ok: false, error: `no ${peer.mirrors} process in this repetition to mirror`, elapsedMs: 0 }
  const beside = Math.max(0, source.data.cpuMs - source.data.readerMs)
  const workUs = (beside * 1000) / Math.floor(job.params.bytes / CHUNK_BYTES)
  const mirrored = { ...peer, env: { ...peer.env, URING_RECEIVER_WORK_US: workUs.toFixed(1) } }
  return runJob(mirrored, job.scenario, job.params, job.timeout).then((r) => (r.ok ? { ...r, data: { ...r.data, mirroredMs: beside } } : r))
}

const SAMPLED = ['concurrency', 'idle']

function sampleProc(pid, peak) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const field = (k) => Number(status.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'))?.[1] ?? 0)
    peak.threads = Math.max(peak.threads, field('Threads'))
    peak.rssKiB = Math.max(peak.rssKiB, field('VmRSS'))
    peak.fds = Math.max(peak.fds, fs.readdirSync(`/proc/${pid}/fd`).length)
    peak.samples++
  } catch {
    // The process is gone, or not yet exec'd.
  }
}

/** What is wrong with a job's figures (byte counts, missing exits), if anything. */
function checkData(scenario, params, d) {
  switch (scenario) {
    case 'throughput':
      return d.bytes === d.expectedBytes ? undefined : `received ${d.bytes} bytes of ${d.expectedBytes}`
    case 'firstbyte': {
      const bad = d.bytes.filter((b) => b !== d.expectedBytes).length
      return bad ? `${bad} of ${d.bytes.length} children delivered a byte count other than ${d.expectedBytes}` : undefined
    }
    case 'concurrency':
    case 'idle':
      if (d.exits !== params.children) return `${d.exits} of ${params.children} exits seen`
      if (d.ready !== params.children) return `${d.ready} of ${params.children} outputs complete`
      return undefined
    case 'lost':
      return undefined // losses are this scenario's figure, not a failure of the run
    case 'screen':
      return d.stream.bytes === d.screen.bytes && d.stream.bytes >= params.mib * MiB ? undefined : `received ${d.stream.bytes} and ${d.screen.bytes} bytes, not the same ≥ ${params.mib} MiB`
    default:
      return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Machine description

function sh(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' })
  return r.status === 0 ? (r.stdout || r.stderr).trim().split('\n')[0] : undefined
}

function machine() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model,
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 1024 ** 3),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    python: sh('python3', ['--version']),
    cc: sh(process.env.CC || 'cc', ['--version']),
    thp: fs.existsSync('/sys/kernel/mm/transparent_hugepage/enabled') ? fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').trim() : undefined,
  }
}

function peerVersions() {
  const v = {}
  for (const mod of ['node-pty', '@lydell/node-pty', '@replit/ruspty']) {
    try {
      v[mod] = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', mod, 'package.json'), 'utf8')).version
    } catch {}
  }
  v['napi-pty'] = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
  const commit = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])
  if (commit) v['napi-pty'] += ` (${commit})`
  return v
}

// ---------------------------------------------------------------------------------------------
// Output

/** Indented JSON with numbers to 4 decimals and arrays of numbers kept on one line. */
function toJson(value) {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e4) / 1e4 : v), 1)
  return text.replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_m, body) => `[${body.split(/,\s*/).join(', ')}]`) + '\n'
}

async function writeReport(json, prefix) {
  const summary = summarize(json)
  json.summary = summary
  fs.mkdirSync(path.dirname(prefix), { recursive: true })
  fs.writeFileSync(`${prefix}.json`, toJson(json))
  let chartNote
  try {
    const { renderChart } = await import('./chart.mjs')
    fs.writeFileSync(`${prefix}.svg`, await renderChart(json))
  } catch (err) {
    chartNote = `chart not rendered: ${err.message}`
  }
  const md = markdown(json, { chart: fs.existsSync(`${prefix}.svg`) ? path.basename(`${prefix}.svg`) : undefined, chartNote }) + foregroundLine(json.foreground)
  fs.writeFileSync(`${prefix}.md`, md)
  return md
}

// napi-pty's own `foreground()` (no peer has it), in bench/foreground.js: 1,000 terminals open
// (100 with --quick), each call timed.
function foregroundCost(log) {
  process.stderr.write('foreground() with terminals open … ')
  const r = spawnSync(process.execPath, [path.join(BENCH, 'foreground.js'), `--terminals=${QUICK ? 100 : 1000}`], { cwd: ROOT, encoding: 'utf8', timeout: 300000 })
  let result
  try {
    result = JSON.parse(r.stdout.trim().split('\n').pop())
  } catch {
    result = { error: `exit ${r.status}: ${r.stderr}` }
  }
  log(result.error ? `FAILED: ${result.error}` : 'ok')
  return result
}

function foregroundLine(f) {
  if (!f) return ''
  if (f.error) return `\n\`foreground()\`: failed: ${f.error}\n`
  return `\n\`foreground()\` with ${f.terminals} terminals open: median ${f.medianUs} µs per call (p90 ${f.p90Us}, p99 ${f.p99Us}, max ${f.maxUs}; ${f.calls} calls)\n`
}

async function main() {
  const reportFrom = option('report')
  if (reportFrom) {
    const json = JSON.parse(fs.readFileSync(reportFrom, 'utf8'))
    const md = await writeReport(json, reportFrom.replace(/\.json$/, ''))
    process.stdout.write(md)
    return
  }

  const onlyScenarios = list(option('only'))
  const onlyPeers = list(option('peers'))
  const prefix = path.resolve(option('out') || path.join(RESULTS, QUICK ? 'quick' : 'latest'))
  const plan = scenarios(QUICK).filter((s) => !onlyScenarios || onlyScenarios.includes(s.key))
  const repsOverride = option('reps') ? Number(option('reps')) : undefined
  const wanted = PEERS.map((p) => p.key).filter((k) => !onlyPeers || onlyPeers.includes(k))

  const log = (msg) => process.stderr.write(msg + '\n')
  log(`napi-pty benchmark (${QUICK ? 'quick' : 'full'}) — checking peers…`)
  const peers = checkPeers(wanted)
  for (const [key, p] of Object.entries(peers)) if (!p.available) log(`  skipped ${key}: ${p.reason}`)

  const jobs = []
  for (const s of plan) {
    const reps = repsOverride ?? s.reps
    const taking = s.peers.filter((k) => peers[k]?.available)
    for (const variant of s.variants ?? [{}]) {
      for (let rep = 0; rep < reps; rep++) {
        // Alternate the order: forwards, backwards, then rotated, so no peer always goes first.
        let order = rep % 2 === 0 ? [...taking] : [...taking].reverse()
        const shift = Math.floor(rep / 2) % Math.max(1, order.length)
        order = [...order.slice(shift), ...order.slice(0, shift)]
        // A peer that mirrors another runs right after it, with its figures.
        for (const mirror of order.filter((k) => PEERS.find((p) => p.key === k).mirrors)) {
          const source = PEERS.find((p) => p.key === mirror).mirrors
          order.splice(order.indexOf(mirror), 1)
          if (order.includes(source)) order.splice(order.indexOf(source) + 1, 0, mirror)
        }
        for (const key of order) jobs.push({ scenario: s.key, variant, rep, peer: key, params: { ...s.params, ...variant, tmpdir: os.tmpdir() }, timeout: s.timeout })
      }
    }
  }

  const json = {
    version: 1,
    mode: QUICK ? 'quick' : 'full',
    date: new Date().toISOString(),
    machine: machine(),
    versions: peerVersions(),
    loadavg: { start: os.loadavg(), samples: [] },
    peers,
    scenarios: plan.map(({ key, title, peers: p, reps, params, variants }) => ({ key, title, peers: p, reps: repsOverride ?? reps, params, variants })),
    results: [],
  }
  const t0 = Date.now()
  for (const [i, job] of jobs.entries()) {
    const peer = PEERS.find((p) => p.key === job.peer)
    const load = os.loadavg()[0]
    json.loadavg.samples.push(load)
    const variant = job.variant.gib !== undefined ? ` ${job.variant.gib} GiB` : ''
    process.stderr.write(`[${i + 1}/${jobs.length}] ${job.scenario}${variant} ${peer.label} (rep ${job.rep + 1}, load ${load.toFixed(2)}) … `)
    const r = peer.mirrors ? await runMirror(peer, job, json.results) : await runJob(peer, job.scenario, job.params, job.timeout)
    json.results.push({ scenario: job.scenario, variant: job.variant, peer: job.peer, rep: job.rep, load, ...r })
    log(`${r.ok ? 'ok' : `FAILED: ${r.error}`} (${(r.elapsedMs / 1000).toFixed(1)} s)`)
  }
  json.loadavg.end = os.loadavg()
  if (!onlyScenarios || onlyScenarios.includes('foreground')) json.foreground = foregroundCost(log)
  json.durationS = Math.round((Date.now() - t0) / 1000)

  const md = await writeReport(json, prefix)
  process.stdout.write(md)
  log(`\nwrote ${path.relative(process.cwd(), prefix)}.{md,json,svg} in ${json.durationS} s`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
