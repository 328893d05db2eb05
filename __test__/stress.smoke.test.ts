// A bounded smoke of the stress suite (stress/, `npm run stress`): each scenario at a small
// size, in a fresh Node process of its own (stress/worker.js), every check it makes asserted
// here. Plus the two security properties no other test file covers: no shell between argv and
// the child, and the user's terminal restored after spawn fails (measured on a pty of ours).
//
// Every check the workers make must hold.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { fork, spawn } from '../index'
import { collectText, FIXTURES, LINUX, linuxOnly, PYTHON, tempDir } from './helpers'

interface Check {
  name: string
  ok: boolean
  detail?: unknown
}

interface WorkerResult {
  scenario: string
  strategy: string
  params: Record<string, unknown>
  report?: {
    figures?: Record<string, unknown>
    cases?: Array<{ name: string; checks: Check[] }>
    properties?: Array<{ key: string; runs: number; failed: boolean; outcomes: Record<string, number> }>
  }
  exit: { code: number | null; signal: string | null; hung: boolean }
  wallMs: number
  checks: Check[]
}

interface WorkerOptions {
  strategy?: 'fork' | 'clone-vfork'
  fdLimit?: number
  hangGuardMs?: number
}

// The runner's helpers are plain CommonJS (they also run without a compile step).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runWorker } = require('../stress/run-worker') as {
  runWorker: (scenario: string, params: Record<string, unknown>, options?: WorkerOptions) => Promise<WorkerResult>
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { caseNames } = require('../stress/callbacks') as { caseNames: string[] }

const FD_LIMIT = 256

/** At most two worker processes at a time: the machine has two cores. */
let running = 0
const queue: Array<() => void> = []
async function limited<T>(f: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => queue.push(resolve))
  running++
  try {
    return await f()
  } finally {
    running--
    queue.shift()?.()
  }
}

/** Each worker runs once, however many tests look at its result. */
const cache = new Map<string, Promise<WorkerResult>>()
function worker(scenario: string, params: Record<string, unknown>, options: WorkerOptions = {}): Promise<WorkerResult> {
  const key = JSON.stringify([scenario, params, options])
  let result = cache.get(key)
  if (!result) {
    result = limited(() => runWorker(scenario, params, { hangGuardMs: 150000, ...options }))
    cache.set(key, result)
  }
  return result
}

/** Asserts every check of a worker (but the named ones), and that there were checks. */
function assertChecks(t: ExecutionContext, result: WorkerResult, except: string[] = []): void {
  const checked = result.checks.filter((c) => !except.includes(c.name))
  t.true(checked.length > 0, 'the scenario made no check')
  for (const c of checked) t.true(c.ok, `${c.name}: ${JSON.stringify(c.detail ?? null).slice(0, 1500)}`)
  t.log(`${result.scenario} [${result.strategy}] ${result.wallMs} ms ${JSON.stringify(result.report?.figures ?? {}).slice(0, 600)}`)
}

// --- Soak, load, no lost byte ------------------------------------------------------------------

linuxOnly(LINUX.stressWorkers, test)('soak: 300 forks in sequence, every status and byte right, nothing left (clone-vfork)', async (t) => {
  assertChecks(t, await worker('soak-fork', { n: 300 }))
})

linuxOnly(LINUX.stressWorkers, test)('soak: 100 forks in sequence (NAPI_PTY_STRATEGY=fork)', async (t) => {
  const result = await worker('soak-fork', { n: 100 }, { strategy: 'fork' })
  t.is(result.report && (result.report as { strategy?: string }).strategy, 'fork')
  assertChecks(t, result)
})

linuxOnly(LINUX.stressWorkers, test)('soak: 100 spawns with stdin and stdout on FIFOs, files and /dev/null', async (t) => {
  assertChecks(t, await worker('soak-spawn', { n: 100 }))
})

linuxOnly(LINUX.stressWorkers, test)('load: 200 children alive at once; threads do not grow, a fixed number of fds per child', async (t) => {
  const result = await worker('load', { n: 200 })
  assertChecks(t, result)
  t.is(result.report?.figures?.aliveTogether, 200)
})

linuxOnly(LINUX.stressWorkers, test)('no lost byte: 200 children write 1 B–1 MiB and exit at once; length and SHA-256 match', async (t) => {
  assertChecks(t, await worker('bytes', { trials: 200, seed: 11 }))
})

linuxOnly(LINUX.stressWorkers, test)('no lost byte: 50 trials (NAPI_PTY_STRATEGY=fork)', async (t) => {
  assertChecks(t, await worker('bytes', { trials: 50, seed: 12 }, { strategy: 'fork' }))
})

// --- Faults ------------------------------------------------------------------------------------

linuxOnly(LINUX.stressWorkers, test)('faults: SIGKILL, reader destroyed, close() under a running child and twice, signals ignored, a daemon on the terminal', async (t) => {
  const result = await worker('faults', {})
  assertChecks(t, result)
  t.is(result.report?.cases?.length, 8)
})

linuxOnly(LINUX.stressWorkers, test)('EMFILE after the reactor has started: typed refusals, nothing half-open, works again', async (t) => {
  const result = await worker('emfile', { expectLimit: FD_LIMIT }, { fdLimit: FD_LIMIT })
  assertChecks(t, result)
})

linuxOnly(LINUX.stressWorkers, test)('EMFILE on the very first fork (reactor not started), 0–8 fds free: typed, then works', async (t) => {
  const frees = [0, 1, 2, 3, 4, 5, 6, 7, 8]
  const results = await Promise.all(frees.map((free) => worker('emfile-first', { free, expectLimit: FD_LIMIT }, { fdLimit: FD_LIMIT })))
  for (const result of results) assertChecks(t, result)
})

// --- An exception in every user callback ------------------------------------------------------

for (const name of caseNames) {
  const title = `an exception thrown in the ${name}: ${name.startsWith('spawn') ? 'spawn rejects with it' : 'uncaught once'}, status delivered, nothing left, the process ends by itself`
  const run = async (t: ExecutionContext) => assertChecks(t, await worker('callback', { case: name }))
  test(title, run)
}

// --- Ending what terminals started; a Screen per child ------------------------------------------

linuxOnly(LINUX.stressWorkers, test)('terminate: 40 calls beside unrelated children; none of theirs killed, nothing of the terminals left', async (t) => {
  const result = await worker('terminate', { n: 40, concurrency: 4 })
  assertChecks(t, result)
  t.is(result.report?.figures?.calls, 40)
})

linuxOnly(LINUX.stressWorkers, test)('dispose: 40 terminals with background jobs, all disposed at once; no process of theirs left', async (t) => {
  const result = await worker('dispose', { n: 40 })
  assertChecks(t, result)
  t.is(result.report?.figures?.processesWhileOpen, 160)
})

linuxOnly(LINUX.stressWorkers, test)('screen: 40 children driven through a Screen and disposed; fds, threads, heap as before', async (t) => {
  const result = await worker('screen', { n: 40, warm: 20 })
  assertChecks(t, result)
  t.is(result.report?.figures?.children, 40)
})

// --- Hostile input (fast-check) ----------------------------------------------------------------

const hostile = () => worker('hostile', { runs: 100, seed: 2026 })

linuxOnly(LINUX.stressWorkers, test)('hostile input: fork, spawn, kill, sizes with any values (100 runs each): a child or a typed error, no leak; E2BIG; lone surrogates', async (t) => {
  const result = await hostile()
  assertChecks(t, result)
  const properties = result.report?.properties ?? []
  t.deepEqual(properties.map((p) => p.key), ['fork', 'spawn', 'kill', 'sizes', 'sparse', 'bytes'])
  for (const p of properties.filter((p) => p.key !== 'sparse')) t.is(p.runs, 100, p.key)
  // The runs reached the deep paths too, not only the argument checks.
  const fork = properties.find((p) => p.key === 'fork')!.outcomes
  t.true(Object.keys(fork).some((k) => k.startsWith('Error E')), JSON.stringify(fork))
})


// --- Security: no shell ------------------------------------------------------------------------

/** Arguments a shell would act on. Run by any shell, `$(…)` and backticks would create files. */
const SHELL_SYNTAX = [
  ';',
  'a; touch napi-pty-semicolon',
  '$(touch napi-pty-dollar)',
  '`touch napi-pty-backtick`',
  '"double quoted"',
  "'single quoted'",
  '  spaced  out  ',
  '*',
  '$HOME',
  '&& touch napi-pty-and',
  '| touch napi-pty-pipe',
  '> napi-pty-redirect',
  '\\',
  'new\nline',
  '',
  '~',
  '#comment',
]

const PRINT_ARGV = [PYTHON, '-I', '-S', '-c', 'import sys, json; print(json.dumps(sys.argv[1:]))']

test('no shell: arguments with ; $() backticks quotes spaces and globs reach the child byte for byte (fork and spawn)', async (t) => {
  const { dir, remove } = tempDir()
  try {
    const child = await fork([...PRINT_ARGV, ...SHELL_SYNTAX], { cwd: dir })
    const text = await collectText(child)
    t.deepEqual(JSON.parse(text), SHELL_SYNTAX)
    t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })

    const out = path.join(dir, 'spawn-output')
    const stdout = fs.openSync(out, 'w')
    const stdin = fs.openSync('/dev/null', 'r')
    try {
      const status = await spawn([...PRINT_ARGV, ...SHELL_SYNTAX], { cwd: dir, stdin, stdout })
      t.is(status.exitCode, 0)
    } finally {
      fs.closeSync(stdout)
      fs.closeSync(stdin)
    }
    t.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), SHELL_SYNTAX)
    // Nothing a shell would have done happened.
    t.deepEqual(fs.readdirSync(dir), ['spawn-output'])
  } finally {
    remove()
  }
})

// --- Security: terminal restored after spawn fails --------------------------------------------

test('the terminal is restored after spawn fails (hook throws or rejects, abort, missing program), measured on a pty of ours', async (t) => {
  const child = await fork([process.execPath, path.join(FIXTURES, 'restore.js')])
  const text = await collectText(child)
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 }, text)
  const line = text.split(/\r?\n/).find((l) => l.startsWith('{'))
  t.truthy(line, text)
  const report = JSON.parse(line!) as { before: string; cases: Array<{ name: string; during?: string; after: string; error: string }> }
  t.deepEqual(
    report.cases.map((c) => c.name),
    ['masterRead throws', 'masterRead rejects', 'aborted mid-session', 'the program does not exist'],
  )
  for (const c of report.cases) {
    // spawn failed, and the mode after is exactly the mode before.
    t.not(c.error, 'resolved', c.name)
    t.is(c.after, report.before, c.name)
    // Where a hook ran, the terminal really was raw then: the check could have failed.
    if (c.name !== 'the program does not exist') t.not(c.during, report.before, c.name)
  }
  t.regex(report.cases[3].error, /ENOENT/)
})
