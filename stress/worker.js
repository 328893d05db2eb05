'use strict'
// Runs one stress scenario in this (fresh) process and prints its report as one JSON line:
//   node --expose-gc stress/worker.js SCENARIO '{"n": 100}' [epoll|uring]
// With a read path named last, the report also checks that the reactor read the masters that
// way: a kernel that refused io_uring must not pass for a run of the io_uring path.
// A fresh process per scenario makes fds, threads, RSS and children its own, and turns a
// crash of the library into a visible exit status instead of the end of the runner.

const scenarios = {
  'soak-fork': () => require('./soak').soakFork,
  'soak-spawn': () => require('./soak').soakSpawn,
  load: () => require('./soak').load,
  bytes: () => require('./soak').bytes,
  faults: () => require('./faults').faults,
  callback: () => require('./callbacks').callback,
  emfile: () => require('./emfile').emfile,
  'emfile-first': () => require('./emfile').emfileFirst,
  hostile: () => require('./hostile').hostile,
  terminate: () => require('./terminate').terminateMany,
  dispose: () => require('./terminate').disposeMany,
  screen: () => require('./screen').screenMany,
}

async function main() {
  const [name, paramsJson = '{}', read] = process.argv.slice(2)
  const load = scenarios[name]
  if (!load) throw new Error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`)
  const params = JSON.parse(paramsJson)
  const report = await load()(params)
  if (read) {
    const { readPath } = require('../dist/lib/native.js')
    ;(report.checks ??= []).push({ name: `the reactor read the masters through ${read === 'uring' ? 'io_uring' : 'epoll'} (NAPI_PTY_READ=${read})`, ok: readPath() === read, detail: { readPath: readPath() } })
  }
  reported = true
  // On a line of its own: spawn(argv, hook), which hostile input may call, writes the child's
  // output to this process's stdout.
  process.stdout.write(`\n${JSON.stringify({ params, ...report })}\n`)
}

let reported = false
process.on('exit', () => {
  if (reported || process.exitCode) return
  // Node exits when nothing keeps its event loop alive: a Promise the scenario awaited never
  // settled and nothing was left to settle it (a wait() or an 'end' that never comes).
  process.stderr.write('the event loop emptied before the scenario finished: an awaited Promise never settled\n')
  process.exitCode = 2
})

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
