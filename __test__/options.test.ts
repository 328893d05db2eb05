// What fork, spawn and openpty do with options they do not take, with a child_process-style
// argv, and with an AbortSignal. Serial: each checks that nothing was started or left behind.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { getEventListeners } from 'node:events'

import test from 'ava'

import { fork, openpty, spawn, DISPOSE_GRACE_MS } from '../index'
import { OutputReader, childPids, collectText, leavesNothing, procState, tempDir, waitFor } from './helpers'

const serial = test.serial

/** Makes a deliberately ill-typed argument pass the type checker. */
const bad = (value: unknown) => value as never

test.before(async () => {
  // Start the reactor and the event sink: their fds belong to the baseline of every test.
  const child = await fork(['true'])
  await collectText(child)
  await child.wait()
})

// --- A child_process-style argv -------------------------------------------------------------

serial("fork('sleep', ['1']): a TypeError that says to pass argv as one array, and nothing starts", async (t) => {
  await leavesNothing(t, async () => {
    const before = childPids()
    const promise = fork('sleep', bad(['1']))
    t.deepEqual(childPids().filter((pid) => !before.includes(pid)), [])
    const err = await t.throwsAsync(promise, { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    t.regex(err.message, /pass argv as one array: fork\(\['sleep', '1'\]\)/)
  })
})

serial('fork(argv array, args array) and spawn("sleep", ["1"]) get the same advice', async (t) => {
  await leavesNothing(t, async () => {
    const err = await t.throwsAsync(fork(['sleep'], bad(['1', "it's"])), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    t.regex(err.message, /fork\(\['sleep', '1', "it's"\]\)/)
    const spawnErr = await t.throwsAsync(spawn('sleep', bad(['1'])), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    t.regex(spawnErr.message, /pass argv as one array: spawn\(\['sleep', '1'\]\)/)
  })
})

// --- Unknown options --------------------------------------------------------------------------

const unknownOptions: Array<[Record<string, unknown>, RegExp]> = [
  [{ name: 'xterm' }, /unknown option 'name' \(the terminal type is 'term'\)/],
  [{ colums: 100 }, /unknown option 'colums' \(did you mean 'cols'\?\)/],
  [{ columns: 100 }, /unknown option 'columns' \(use 'cols'\)/],
  [{ lines: 30 }, /unknown option 'lines' \(use 'rows'\)/],
  [{ Rows: 30 }, /unknown option 'Rows' \(did you mean 'rows'\?\)/],
  [{ encoding: 'utf8' }, /unknown option 'encoding' \(output is Buffers; use setEncoding\(\)/],
  [{ timeout: 1000 }, /unknown option 'timeout' \(use 'signal: AbortSignal\.timeout\(ms\)'\)/],
  [{ shell: true }, /unknown option 'shell' \(argv runs without a shell/],
  [{ xyzzy: 1 }, /unknown option 'xyzzy'; the options are 'cols', 'rows', 'cwd'/],
  // Present but undefined is still a misspelt key.
  [{ cwdir: undefined }, /unknown option 'cwdir'/],
]

for (const [options, message] of unknownOptions) {
  const key = Object.keys(options)[0]
  serial(`fork rejects the unknown option '${key}' with a hint, and nothing starts`, async (t) => {
    await leavesNothing(t, async () => {
      const err = await t.throwsAsync(fork(['true'], bad(options)), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
      t.regex(err.message, message)
      t.regex(err.message, /^fork: /)
    })
  })
}

serial('spawn rejects unknown options, and knows its own', async (t) => {
  await leavesNothing(t, async () => {
    const err = await t.throwsAsync(spawn(['true'], bad({ name: 'xterm' })), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
    t.regex(err.message, /^spawn: unknown option 'name' \(the terminal type is 'term'\)/)
    const typo = await t.throwsAsync(spawn(['true'], bad({ masterReed: () => undefined })), { code: 'ERR_INVALID_ARG_VALUE' })
    t.regex(typo.message, /did you mean 'masterRead'\?/)
    t.regex(typo.message, /'stdin', 'stdout'/)
    const devNull = fs.openSync('/dev/null', 'r+')
    try {
      const status = await spawn(['true'], { stdin: devNull, stdout: devNull, masterRead: () => undefined, stdinRead: () => undefined, term: 'dumb', echo: false })
      t.is(status.exitCode, 0)
    } finally {
      fs.closeSync(devNull)
    }
  })
})

serial('openpty rejects options other than cols and rows', async (t) => {
  await leavesNothing(t, async () => {
    const err = await t.throwsAsync(openpty(bad({ columns: 100 })), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
    t.regex(err.message, /^openpty: unknown option 'columns' \(use 'cols'\); the options are 'cols', 'rows'$/)
    await t.throwsAsync(openpty(bad({ cwd: '/' })), { code: 'ERR_INVALID_ARG_VALUE' })
  })
})

// --- signal -----------------------------------------------------------------------------------

serial('fork: a signal that is not an AbortSignal is a TypeError', async (t) => {
  await leavesNothing(t, () => t.throwsAsync(fork(['true'], { signal: bad({}) }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }))
})

serial('fork: an already aborted signal rejects with an AbortError and starts nothing', async (t) => {
  await leavesNothing(t, async () => {
    const reason = new Error('changed my mind')
    const before = childPids()
    const promise = fork(['sleep', '30'], { signal: AbortSignal.abort(reason) })
    t.deepEqual(childPids().filter((pid) => !before.includes(pid)), [])
    const err = await t.throwsAsync(promise, { name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted' })
    t.is(err.cause, reason)
  })
})

serial('fork: an abort while the child runs hangs it up; the output ends, wait() resolves, no error, no zombie', async (t) => {
  await leavesNothing(t, async () => {
    const controller = new AbortController()
    const child = await fork(['sh', '-c', 'echo ready; exec sleep 30'], { signal: controller.signal })
    const errors: Error[] = []
    child.on('error', (err) => errors.push(err))
    const reader = new OutputReader(child)
    await reader.until('ready\r\n')
    t.is(getEventListeners(controller.signal, 'abort').length, 1)
    controller.abort()
    t.is(await reader.ended, 'ready\r\n')
    t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGHUP', status: 1 })
    t.deepEqual(errors, [])
    t.is(procState(child.pid), undefined)
  })
})

serial('fork: an abort ends a child that ignores the hang-up with SIGKILL after DISPOSE_GRACE_MS', async (t) => {
  await leavesNothing(t, async () => {
    const controller = new AbortController()
    const child = await fork(['sh', '-c', "trap '' HUP; echo ready; exec sleep 30"], { signal: controller.signal })
    await new OutputReader(child).until('ready\r\n')
    controller.abort()
    t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGKILL', status: 9 })
  })
})

serial('fork: the abort listener goes with the exit, and a later abort does nothing', async (t) => {
  const controller = new AbortController()
  const children = await Promise.all(Array.from({ length: 5 }, (_, i) => fork(['sh', '-c', `exit ${i}`], { signal: controller.signal })))
  const statuses = await Promise.all(children.map((c) => c.wait()))
  t.deepEqual(statuses.map((s) => s.exitCode), [0, 1, 2, 3, 4])
  t.is(getEventListeners(controller.signal, 'abort').length, 0)
  controller.abort()
  t.deepEqual(children.map((c) => c.exitStatus?.exitCode), [0, 1, 2, 3, 4])
})

serial('fork: an abort right after the call either rejects with an AbortError or hangs up the child it gave (races, repeated)', async (t) => {
  const outcomes = new Set<string>()
  await leavesNothing(t, async () => {
    for (let i = 0; i < 30; i++) {
      const controller = new AbortController()
      const promise = fork(['sleep', '30'], { signal: controller.signal })
      if (i % 3 === 0) controller.abort()
      else if (i % 3 === 1) queueMicrotask(() => controller.abort())
      else setImmediate(() => controller.abort())
      try {
        const child = await promise
        t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGHUP', status: 1 })
        outcomes.add('hung up')
      } catch (err) {
        t.is((err as Error).name, 'AbortError')
        outcomes.add('rejected')
      }
    }
  })
  t.log([...outcomes].join(', '))
})

serial('spawn: an abort ends a child that ignores the hang-up too (SIGKILL after the grace), as fork does', async (t) => {
  const tmp = tempDir()
  const devNull = fs.openSync('/dev/null', 'r+')
  t.teardown(() => {
    fs.closeSync(devNull)
    tmp.remove()
  })
  const pidFile = path.join(tmp.dir, 'pid')
  await leavesNothing(t, async () => {
    const controller = new AbortController()
    const spawned = spawn(['sh', '-c', `trap '' HUP; echo $$ > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; exec sleep 30`], {
      stdin: devNull,
      stdout: devNull,
      signal: controller.signal,
    })
    await waitFor(() => fs.existsSync(pidFile))
    const pid = Number(fs.readFileSync(pidFile, 'utf8'))
    controller.abort()
    await t.throwsAsync(spawned, { name: 'AbortError', code: 'ABORT_ERR' })
    await waitFor(() => procState(pid) === undefined, 5 * DISPOSE_GRACE_MS)
    t.is(procState(pid), undefined)
  })
})
