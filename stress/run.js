'use strict'
// The stress suite: `npm run stress` (everything, full size) writes STRESS.md at the repo root
// from what this run measured, and prints the same figures.
//
//   node stress/run.js [--scale=0.1] [--only=soak-fork,bytes,...] [--out=FILE] [--no-write]
//
// --scale multiplies every trial count (the report says so); --only runs some sections.
// Each scenario runs in a fresh Node process (stress/worker.js); see stress/README.md.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const { runWorker, pool } = require('./run-worker')

const ROOT = path.join(__dirname, '..')
const STRATEGIES = ['clone-vfork', 'fork']
const FD_LIMIT = 256

function parseArgs(argv) {
  const args = { scale: 1, only: undefined, out: path.join(ROOT, 'STRESS.md'), write: true }
  for (const arg of argv) {
    if (arg.startsWith('--scale=')) args.scale = Number(arg.slice(8))
    else if (arg.startsWith('--only=')) args.only = arg.slice(7).split(',')
    else if (arg.startsWith('--out=')) args.out = path.resolve(arg.slice(6))
    else if (arg === '--no-write') args.write = false
    else throw new Error(`unknown argument ${arg}`)
  }
  if (!(args.scale > 0)) throw new Error('--scale must be a positive number')
  return args
}

/** The plan: which worker runs, with what, under which strategy. */
function plan(scale) {
  const n = (full) => Math.max(1, Math.round(full * scale))
  const runs = []
  for (const strategy of STRATEGIES) {
    runs.push({ section: 'soak-fork', scenario: 'soak-fork', params: { n: n(10000) }, strategy })
    runs.push({ section: 'soak-spawn', scenario: 'soak-spawn', params: { n: n(10000) }, strategy })
    runs.push({ section: 'load', scenario: 'load', params: { n: n(1000) }, strategy })
    runs.push({ section: 'bytes', scenario: 'bytes', params: { trials: n(2000), seed: strategy === 'fork' ? 2 : 1 }, strategy })
    runs.push({ section: 'faults', scenario: 'faults', params: {}, strategy })
    runs.push({ section: 'emfile', scenario: 'emfile', params: { expectLimit: FD_LIMIT }, strategy, fdLimit: FD_LIMIT })
  }
  // Ending what terminals started (the session layer does not depend on the strategy).
  runs.push({ section: 'terminate', scenario: 'terminate', params: { n: n(1000) }, strategy: 'clone-vfork' })
  runs.push({ section: 'dispose', scenario: 'dispose', params: { n: n(1000) }, strategy: 'clone-vfork' })
  // A Screen per child: the terminal emulator must not keep anything of a disposed Screen.
  runs.push({ section: 'screen', scenario: 'screen', params: { n: n(1000) }, strategy: 'clone-vfork' })
  // A longer soak, to see whether RSS levels off once the allocator and V8 have warmed up.
  runs.push({ section: 'soak-fork', scenario: 'soak-fork', params: { n: n(30000) }, strategy: 'clone-vfork' })
  const { caseNames } = require('./callbacks')
  for (const name of caseNames) runs.push({ section: 'callbacks', scenario: 'callback', params: { case: name }, strategy: 'clone-vfork', parallel: true })
  for (let free = 0; free <= 8; free++) {
    runs.push({ section: 'emfile-first', scenario: 'emfile-first', params: { free, expectLimit: FD_LIMIT }, strategy: 'clone-vfork', fdLimit: FD_LIMIT, parallel: true })
  }
  runs.push({ section: 'hostile', scenario: 'hostile', params: { runs: n(1000), seed: 42 }, strategy: 'clone-vfork' })
  runs.push({ section: 'hostile', scenario: 'hostile', params: { runs: n(200), seed: 7, only: ['fork', 'spawn', 'bytes'] }, strategy: 'fork' })
  // The default read path, io_uring: each run checks that the kernel granted the ring.
  // Not the very first fork at the fd limit: a reactor started with no fd free for the ring
  // reads with epoll, as it should, for the rest of that process.
  for (const r of runs) if (r.section !== 'emfile-first') r.read = 'uring'
  // The epoll read path (NAPI_PTY_READ=epoll, the fallback where io_uring is refused) through
  // every section whose outcome depends on how the masters are read.
  const epoll = { strategy: 'clone-vfork', read: 'epoll' }
  runs.push({ section: 'soak-fork', scenario: 'soak-fork', params: { n: n(10000) }, ...epoll })
  runs.push({ section: 'soak-spawn', scenario: 'soak-spawn', params: { n: n(10000) }, ...epoll })
  runs.push({ section: 'load', scenario: 'load', params: { n: n(1000) }, ...epoll })
  runs.push({ section: 'bytes', scenario: 'bytes', params: { trials: n(2000), seed: 3 }, ...epoll })
  runs.push({ section: 'faults', scenario: 'faults', params: {}, ...epoll })
  runs.push({ section: 'emfile', scenario: 'emfile', params: { expectLimit: FD_LIMIT }, ...epoll, fdLimit: FD_LIMIT })
  for (const name of caseNames) runs.push({ section: 'callbacks', scenario: 'callback', params: { case: name }, ...epoll, parallel: true })
  runs.push({ section: 'terminate', scenario: 'terminate', params: { n: n(1000) }, ...epoll })
  runs.push({ section: 'hostile', scenario: 'hostile', params: { runs: n(300), seed: 43 }, ...epoll })
  return runs
}

/** How a run was configured, as its rows show it: the strategy, and the read path if not the default. */
const setup = (r) => (r.read === 'epoll' ? `${r.strategy}, epoll` : r.strategy)

function machine() {
  const text = (f) => {
    try {
      return fs.readFileSync(f, 'utf8').trim()
    } catch {
      return '?'
    }
  }
  let commit = '?'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString().trim()
    if (dirty) commit += ' (with uncommitted changes)'
  } catch {
    // Not a git checkout.
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit,
    node: process.version,
    kernel: os.release(),
    cpus: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    load: os.loadavg().map((l) => l.toFixed(1)).join(' '),
    ptyMax: text('/proc/sys/kernel/pty/max'),
  }
}

// --- Formatting -------------------------------------------------------------------------------

const fmt = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : v === undefined || v === null ? '—' : String(v))
const cell = (v) => fmt(v).replace(/\|/g, '\\|').replace(/\n/g, ' ')
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n')
const verdict = (r) => {
  const failed = r.checks.filter((c) => !c.ok).length
  return failed === 0 ? `pass (${r.checks.length} checks)` : `**FAIL** (${failed} of ${r.checks.length} checks)`
}
const json = (v) => JSON.stringify(v)

function soakSection(results, title, unit) {
  if (results.length === 0) return ''
  const rows = results.map((r) => {
    const f = r.report?.figures ?? {}
    return [
      setup(r),
      f.trials,
      f.failures,
      `${fmt(f.ms)} ms (${fmt(f.perSecond)}/s)`,
      `${fmt(f.fds?.before)} / ${fmt(f.fds?.duringMax)} / ${fmt(f.fds?.after)}`,
      `${fmt(f.threads?.before)} / ${fmt(f.threads?.duringMax)} / ${fmt(f.threads?.after)}`,
      `${fmt(f.rssMB?.before)} / ${fmt(f.rssMB?.atHalf)} / ${fmt(f.rssMB?.duringMax)} / ${fmt(f.rssMB?.after)}`,
      r.report?.rssGrowthMB,
      `${fmt(f.heapUsedMB?.atHalf)} → ${fmt(f.heapUsedMB?.after)}`,
      f.zombiesSeenAtSamples,
      verdict(r),
    ]
  })
  return `## ${title}\n\n${table(['strategy', unit, 'wrong exit or bytes', 'time', 'fds before / max during / after', 'threads before / max / after', 'RSS MB before / at half / max / after', 'RSS growth MB, half → end', 'JS heap MB, half → end', 'zombies at samples', 'result'], rows)}\n\nRSS rises over the first thousands of children (the allocator and V8 warming up); a leak shows as growth that goes on: compare the second half's growth of the longer runs with the shorter ones. The JS heap is measured after GC. fds, threads and zombies are sampled 20 times during each run.\n`
}

function loadSection(results) {
  if (results.length === 0) return ''
  const rows = results.map((r) => {
    const f = r.report?.figures ?? {}
    return [
      setup(r),
      f.children,
      f.aliveTogether,
      f.failures,
      `${fmt(f.msUntilAllReady)} ms`,
      `${fmt(f.fds?.before)} / ${fmt(f.fds?.during)} / ${fmt(f.fds?.after)}`,
      f.fds?.perChild,
      `${fmt(f.threads?.before)} / ${fmt(f.threads?.during)} / ${fmt(f.threads?.after)}`,
      `${fmt(f.rssMB?.before)} / ${fmt(f.rssMB?.during)} / ${fmt(f.rssMB?.after)}`,
      f.rssPerChildKB,
      verdict(r),
    ]
  })
  return `## Load: children all alive at once\n\nEach child prints \`ready N\`, sleeps in \`read\` until it is sent a line, echoes it and exits with its own code. Measured while all are alive.\n\n${table(['strategy', 'children', 'alive together', 'wrong output or exit', 'until all ready', 'fds before / during / after', 'fds per child', 'threads before / during / after', 'RSS MB before / during / after', 'RSS per child (KB)', 'result'], rows)}\n`
}

function bytesSection(results) {
  if (results.length === 0) return ''
  const rows = results.map((r) => {
    const f = r.report?.figures ?? {}
    return [setup(r), f.trials, f.seed, f.failures, `${fmt(f.sizeMin)} / ${fmt(f.sizeMedian)} / ${fmt(f.sizeMax)}`, f.trialsUnder4KiB, `${fmt(f.bytesReceived)} of ${fmt(f.bytesExpected)}`, `${fmt(f.ms)} ms`, verdict(r)]
  })
  return `## No lost byte\n\nEach trial: a child writes a random number of random bytes (no \\n or \\r, which the terminal would translate) and exits at once; it leaves the length and SHA-256 in a side file before the first byte. The bytes received must match both. The output is read in turn with \`for await\`, \`'data'\` events and \`'readable'\`/\`read()\`; two trials run at a time.\n\n${table(['strategy', 'trials', 'seed', 'mismatches', 'size min / median / max (bytes)', 'trials under 4 KiB', 'bytes received', 'time', 'result'], rows)}\n`
}

function faultsSection(results) {
  if (results.length === 0) return ''
  const parts = ['## Faults\n']
  for (const r of results) {
    const rows = (r.report?.cases ?? []).map((c) => [c.name, json(c.saw), c.checks.every((ch) => ch.ok) ? `pass (${c.checks.length})` : `**FAIL**: ${c.checks.filter((ch) => !ch.ok).map((ch) => ch.name).join('; ')}`])
    parts.push(`### Strategy ${setup(r)} — ${verdict(r)}\n\n${table(['fault', 'what the user saw', 'checks (incl. no fd, child, thread or registration left)'], rows)}\n`)
  }
  return parts.join('\n')
}

function callbacksSection(results) {
  if (results.length === 0) return ''
  const rows = results.map((r) => {
    const saw = r.report?.saw ?? {}
    const failed = r.checks.filter((c) => !c.ok).map((c) => c.name)
    return [r.params.case, setup(r), saw.outcome, (saw.uncaught ?? []).join('; ') || 'none', saw.status ? json(saw.status) : '—', failed.length ? `**FAIL**: ${failed.join('; ')}` : `pass (${r.checks.length})`]
  })
  return `## An exception thrown in every user callback\n\nOne process per case, with an \`uncaughtException\` handler (as an application that survives its own bugs has). A stream listener's exception must reach the user once, as an uncaught exception (Node's own streams do so); a hook's must reject \`spawn\`. Then: the child's status still arrives, nothing is left, later forks work, and the process ends by itself (its event loop let go).\n\n${table(['callback that throws', 'strategy', 'the call', 'uncaught exceptions', 'status', 'result'], rows)}\n`
}

function emfileSection(results, firsts) {
  if (results.length === 0 && firsts.length === 0) return ''
  const parts = [`## EMFILE: the fd limit (RLIMIT_NOFILE = ${FD_LIMIT}, the table filled with /dev/null)\n`]
  for (const r of results) {
    const f = r.report?.figures ?? {}
    const frees = [...new Set(Object.keys(f.outcomes ?? {}).map((k) => Number(/with (\d+) free/.exec(k)[1])))]
    const rows = frees.map((k) => [k, f.outcomes[`fork with ${k} free`], f.outcomes[`openpty with ${k} free`], f.outcomes[`spawn with ${k} free`]])
    parts.push(`### After the reactor has started, strategy ${setup(r)} — ${verdict(r)}\n\n${table(['fds free', 'fork', 'openpty', 'spawn'], rows)}\n\n${f.concurrent?.forks} forks at once with ${f.concurrent?.free} fds free: ${f.concurrent?.ok} ran, the others: ${[...new Set((f.concurrent?.outcomes ?? []).filter((o) => o !== 'ok').map((o) => `${o.code} (${o.syscall})`))].join(', ') || 'none'}. After freeing the fds: ${json(f.afterRelease)}. After every attempt the number of free fds was back and no child was left (checked).\n`)
  }
  if (firsts.length) {
    const rows = firsts.map((r) => [r.params.free, r.report ? json(r.report.figures.outcome) : `process died: ${r.exit.signal ?? `exit ${r.exit.code}`}`, r.report ? json(r.report.figures.later) : '—', r.checks.every((c) => c.ok) ? 'pass' : `**FAIL**: ${r.checks.filter((c) => !c.ok).map((c) => c.name).join('; ')}`])
    parts.push(`### The very first fork of a process (reactor not yet started)\n\n${table(['fds free', 'first fork', 'fork once fds are free', 'result'], rows)}\n`)
  }
  return parts.join('\n')
}

function hostileSection(results) {
  if (results.length === 0) return ''
  const parts = ['## Hostile input (fast-check)\n', 'Every run is followed by a leak check (fd table back to the baseline, no child); fast-check\'s per-run timeout (30 s) is the hang guard. Outcomes are counted by kind: a running child, or the typed error the user got.\n']
  for (const r of results) {
    const rows = (r.report?.properties ?? []).map((p) => [p.name, p.runs, p.seed, Object.entries(p.outcomes).map(([k, v]) => `${k}: ${v}`).join('; '), p.failed ? `**FAIL**: ${p.error} — counterexample ${p.counterexample}` : 'pass'])
    parts.push(`### Strategy ${setup(r)} — ${verdict(r)}\n\n${table(['property', 'runs', 'seed', 'outcomes', 'result'], rows)}\n`)
    const lim = r.report?.limits
    if (lim) {
      const same = r.checks.find((c) => c.name.startsWith('lone surrogates reach the child'))?.ok
      const utf16 = same
        ? 'reach the child UTF-8 encoded with each lone surrogate replaced by U+FFFD (bytes EF BF BD), exactly as `Buffer.from(string)` encodes them (checked in this run); the child cannot tell which surrogate it was'
        : '**do not** reach the child as `Buffer.from(string)` encodes them (the check failed in this run)'
      parts.push(`Limits (exact answers):\n\n${table(['input', 'outcome'], Object.entries(lim.limits))}\n\nStrings that are not valid UTF-16 ${utf16}. Bytes received (hex):\n\n${table(['string', 'bytes the child received'], Object.entries(lim.surrogates))}\n`)
    }
  }
  return parts.join('\n')
}

function terminateSection(calls, disposals) {
  if (calls.length === 0 && disposals.length === 0) return ''
  const parts = ['## Ending what terminals started\n', 'Each terminal runs `sh -c` with three background jobs: a plain `sleep`, one that ignores SIGHUP and SIGTERM, and one started with `setsid`. Whether a process is a terminal\'s is judged from outside, by a tag in its environment that all its descendants inherit.\n']
  if (calls.length) {
    const rows = calls.map((r) => {
      const f = r.report?.figures ?? {}
      return [setup(r), f.calls, f.concurrency, f.failures, f.bystandersKilled, `${fmt(f.medianTerminateMs)} ms`, `${fmt(f.ms)} ms`, `${fmt(f.fds?.before)} / ${fmt(f.fds?.after)}`, `${fmt(f.threads?.before)} / ${fmt(f.threads?.after)}`, verdict(r)]
    })
    parts.push(`### terminate() next to unrelated children\n\nGrace 0 and 50 ms in turn; an unrelated \`sleep\` started beside each terminal (its pid among theirs), a \`sleep\` and a Node child alive throughout. Checked as each call resolves: no process of its terminal left.\n\n${table(['strategy', 'calls', 'at a time', 'something left', 'unrelated children killed', 'median terminate()', 'time', 'fds before / after', 'threads before / after', 'result'], rows)}\n`)
  }
  if (disposals.length) {
    const rows = disposals.map((r) => {
      const f = r.report?.figures ?? {}
      return [f.terminals, f.processesWhileOpen, f.failures, `${fmt(f.openMs)} ms / ${fmt(f.disposeMs)} ms`, `${fmt(f.fds?.before)} / ${fmt(f.fds?.during)} / ${fmt(f.fds?.after)}`, `${fmt(f.threads?.before)} / ${fmt(f.threads?.during)} / ${fmt(f.threads?.after)}`, verdict(r)]
    })
    parts.push(`### \`await using\` on terminals all open at once\n\n${table(['terminals', 'their processes while open', 'failures', 'time to open all / to dispose all', 'fds before / during / after', 'threads before / during / after', 'result'], rows)}\n`)
  }
  return parts.join('\n')
}

function screenSection(results) {
  if (results.length === 0) return ''
  const rows = results.map((r) => {
    const f = r.report?.figures ?? {}
    return [f.children, f.failures, `${fmt(f.ms)} ms`, `${fmt(f.heapKiB?.before)} / ${fmt(f.heapKiB?.after)} KiB (${fmt(f.heapKiB?.growth)} KiB)`, `${fmt(f.fds?.before)} / ${fmt(f.fds?.after)}`, `${fmt(f.threads?.before)} / ${fmt(f.threads?.after)}`, verdict(r)]
  })
  return `## A Screen per child\n\nEach child prints a coloured prompt, reads a line and answers; its Screen waits for the prompt, keys are pressed, the answer is awaited, \`toSVG()\` renders it and the Screen is disposed; two children at a time, after 200 of warm-up.\n\n${table(['children', 'failures', 'time', 'heap before / after (growth)', 'fds before / after', 'threads before / after', 'result'], rows)}\n`
}

function failuresSection(all) {
  const failed = all.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => [`${r.scenario}${r.params.case ? ` (${r.params.case})` : ''}${r.params.free !== undefined ? ` (${r.params.free} free)` : ''}`, setup(r), c.name, json(c.detail ?? null).slice(0, 400)]))
  if (failed.length === 0) return '## Failed checks\n\nNone.\n'
  return `## Failed checks\n\n${table(['scenario', 'strategy', 'check', 'detail'], failed)}\n`
}

function render(all, info, args, wallMs) {
  const by = (section) => all.filter((r) => r.section === section)
  const total = all.reduce((s, r) => s + r.checks.length, 0)
  const failed = all.reduce((s, r) => s + r.checks.filter((c) => !c.ok).length, 0)
  const summary = all.map((r) => [r.section, setup(r), json(r.params), `${fmt(r.wallMs)} ms`, verdict(r)])
  return [
    '# napi-pty stress report',
    '',
    `Generated by \`npm run stress\` (\`node stress/run.js${args.scale !== 1 ? ` --scale=${args.scale}` : ''}${args.only ? ` --only=${args.only.join(',')}` : ''}\`) — every figure below comes from that run; do not edit by hand.`,
    '',
    `Run: ${info.date}, commit ${info.commit}, Node ${info.node}, Linux ${info.kernel}, ${info.cpus} CPUs, ${info.memGiB} GiB, load average at the end ${info.load}, pty max ${info.ptyMax}. Scale ${args.scale}${args.scale !== 1 ? ' (trial counts multiplied: NOT the full suite)' : ' (full size)'}${args.only ? `; only ${args.only.join(', ')}` : ''}. Total ${fmt(Math.round(wallMs / 1000))} s.`,
    '',
    `**${total - failed} of ${total} checks passed, ${failed} failed.** Strategies: \`clone-vfork\` (the default, \`clone(CLONE_VM|CLONE_VFORK)\`) and \`fork\` (\`NAPI_PTY_STRATEGY=fork\`); read paths: io_uring (the default; each such run checks that the kernel granted the ring) and, where a row says \`epoll\`, \`NAPI_PTY_READ=epoll\`. Times are figures only, never asserted; leaks are: an fd not in the baseline table (or a baseline fd gone), a child or zombie of the process, a thread more than at the start, a child still registered as active by the library.`,
    '',
    table(['section', 'strategy', 'parameters', 'wall time', 'result'], summary),
    '',
    soakSection(by('soak-fork'), 'Soak: forks in sequence', 'forks'),
    soakSection(by('soak-spawn'), 'Soak: spawns in sequence (stdin /dev/null or a silent FIFO, stdout a FIFO or an append-only file)', 'spawns'),
    loadSection(by('load')),
    bytesSection(by('bytes')),
    faultsSection(by('faults')),
    callbacksSection(by('callbacks')),
    emfileSection(by('emfile'), by('emfile-first')),
    hostileSection(by('hostile')),
    terminateSection(by('terminate'), by('dispose')),
    screenSection(by('screen')),
    failuresSection(all),
  ].join('\n')
}

function printResult(r) {
  const failed = r.checks.filter((c) => !c.ok)
  const label = `${r.section} [${setup(r)}] ${json(r.params)}`
  console.log(`${failed.length ? 'FAIL' : 'ok  '} ${label} — ${r.checks.length - failed.length}/${r.checks.length} checks, ${fmt(r.wallMs)} ms`)
  if (r.report?.figures) console.log(`     figures: ${json(r.report.figures)}`)
  for (const c of failed) console.log(`     FAILED: ${c.name}: ${json(c.detail ?? null).slice(0, 300)}`)
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const runs = plan(args.scale).filter((r) => !args.only || args.only.includes(r.section))
  const t0 = performance.now()
  const all = []
  const serial = runs.filter((r) => !r.parallel)
  const parallel = runs.filter((r) => r.parallel)
  for (const r of serial) {
    const result = { section: r.section, ...(await runWorker(r.scenario, r.params, { strategy: r.strategy, read: r.read, fdLimit: r.fdLimit })) }
    printResult(result)
    all.push(result)
  }
  const side = await pool(parallel.map((r) => () => runWorker(r.scenario, r.params, { strategy: r.strategy, read: r.read, fdLimit: r.fdLimit }).then((res) => ({ section: r.section, ...res }))), 2)
  for (const result of side) {
    printResult(result)
    all.push(result)
  }
  const order = ['soak-fork', 'soak-spawn', 'load', 'bytes', 'faults', 'callbacks', 'emfile', 'emfile-first', 'hostile', 'terminate', 'dispose', 'screen']
  all.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section))
  const wallMs = performance.now() - t0
  const text = render(all, machine(), args, wallMs)
  if (args.write) {
    fs.writeFileSync(args.out, `${text}\n`)
    console.log(`\nwrote ${path.relative(process.cwd(), args.out) || args.out}`)
  }
  const failed = all.reduce((s, r) => s + r.checks.filter((c) => !c.ok).length, 0)
  const total = all.reduce((s, r) => s + r.checks.length, 0)
  console.log(`\n${total - failed} passed, ${failed} failed`)
  process.exitCode = failed ? 1 : 0
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 2
})
