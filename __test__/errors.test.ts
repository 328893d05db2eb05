// Exec errors and bad input. Every test here is serial: each checks that nothing is left
// behind (fds, children, zombies), which only a quiet process can tell.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { fork, getWindowSize, openpty, setWindowSize, type PtyProcess } from '../index'
import { childPids, collectText, leavesNothing, LINUX, linuxOnly, runNode, sysFields, tempDir } from './helpers'

const serial = test.serial

/** Makes a deliberately ill-typed argument pass the type checker. */
const bad = (value: unknown) => value as never

const tmp = tempDir()
const plainFile = path.join(tmp.dir, 'plain')
const binDir = path.join(tmp.dir, 'bin')

test.before(async () => {
  fs.writeFileSync(plainFile, '#!/bin/sh\necho should not run\n', { mode: 0o644 })
  fs.mkdirSync(binDir)
  fs.writeFileSync(path.join(binDir, 'napi-pty-plain'), '#!/bin/sh\necho should not run\n', { mode: 0o644 })
  fs.writeFileSync(path.join(binDir, 'napi-pty-badinterp'), '#!/nonexistent/interpreter\n', { mode: 0o755 })
  // Start the reactor and the event sink: their fds belong to the baseline of every test.
  const child = await fork(['true'])
  await collectText(child)
  await child.wait()
})

test.after.always(() => tmp.remove())

/** fork() must reject with exactly this system error and leave nothing behind. */
async function execError(
  t: ExecutionContext,
  argv: string | string[],
  options: Parameters<typeof fork>[1],
  expected: { code: string; errno: number; syscall: string; path?: string },
): Promise<void> {
  const err = await leavesNothing(t, () => t.throwsAsync(fork(argv, options)))
  t.deepEqual(sysFields(err), { name: 'Error', ...expected, path: expected.path })
  t.true(err instanceof Error)
}

async function exited(argv: string[]): Promise<PtyProcess> {
  const child = await fork(argv)
  await child.wait()
  return child
}

// --- Exec errors -----------------------------------------------------------------------------

linuxOnly(LINUX.proc, serial)('a program missing from PATH: ENOENT from execvp, and no child is forked', async (t) => {
  const before = childPids()
  const promise = fork('napi-pty-no-such-program')
  t.deepEqual(childPids().filter((pid) => !before.includes(pid)), [])
  await execError(t, 'napi-pty-no-such-program', undefined, {
    code: 'ENOENT',
    errno: -2,
    syscall: 'execvp',
    path: 'napi-pty-no-such-program',
  })
  await t.throwsAsync(promise, { code: 'ENOENT' })
})

linuxOnly(LINUX.proc, serial)('a missing program given by path: ENOENT from execve', async (t) => {
  const missing = path.join(tmp.dir, 'missing')
  await execError(t, [missing], undefined, { code: 'ENOENT', errno: -2, syscall: 'execve', path: missing })
})

linuxOnly(LINUX.proc, serial)('the error message reads like Node’s own', async (t) => {
  const missing = path.join(tmp.dir, 'missing')
  await leavesNothing(t, () =>
    t.throwsAsync(fork(missing), { message: `ENOENT: no such file or directory, execve '${missing}'` }),
  )
})

linuxOnly(LINUX.proc, serial)('a file without execute permission given by path: EACCES from execve', async (t) => {
  await execError(t, [plainFile], undefined, { code: 'EACCES', errno: -13, syscall: 'execve', path: plainFile })
})

linuxOnly(LINUX.proc, serial)('only a non-executable file on PATH: EACCES from execvp', async (t) => {
  await execError(t, 'napi-pty-plain', { env: { PATH: binDir } }, {
    code: 'EACCES',
    errno: -13,
    syscall: 'execvp',
    path: 'napi-pty-plain',
  })
})

linuxOnly(LINUX.proc, serial)('a directory as the program: EACCES from execve', async (t) => {
  await execError(t, [binDir], undefined, { code: 'EACCES', errno: -13, syscall: 'execve', path: binDir })
})

linuxOnly(LINUX.proc, serial)('a path component that is a file: ENOTDIR from execve', async (t) => {
  const through = path.join(plainFile, 'prog')
  await execError(t, [through], undefined, { code: 'ENOTDIR', errno: -20, syscall: 'execve', path: through })
})

linuxOnly(LINUX.proc, serial)('a script whose interpreter is missing: ENOENT from execve', async (t) => {
  const script = path.join(binDir, 'napi-pty-badinterp')
  await execError(t, [script], undefined, { code: 'ENOENT', errno: -2, syscall: 'execve', path: script })
})

linuxOnly(LINUX.proc, serial)('a cwd that does not exist: ENOENT from chdir', async (t) => {
  const cwd = path.join(tmp.dir, 'no-such-dir')
  await execError(t, ['true'], { cwd }, { code: 'ENOENT', errno: -2, syscall: 'chdir', path: cwd })
})

linuxOnly(LINUX.proc, serial)('a cwd that is a file: ENOTDIR from chdir', async (t) => {
  await execError(t, ['true'], { cwd: plainFile }, { code: 'ENOTDIR', errno: -20, syscall: 'chdir', path: plainFile })
})

linuxOnly(LINUX.proc, serial)('a uid the process may not take: EPERM (run unprivileged)', async (t) => {
  const run = await runNode('ids.js', ['drop', JSON.stringify([{ uid: 0 }, { uid: 0, gid: 0 }, { gid: 0 }])])
  t.is(run.code, 0, run.stderr)
  const report = JSON.parse(run.stdout)
  if (report.dropFailed) {
    t.fail(`cannot become unprivileged here, so EPERM cannot be provoked: ${report.dropFailed}`)
    return
  }
  t.not(report.uid, 0)
  const eperm = (syscall: string) => ({ name: 'Error', code: 'EPERM', errno: -1, syscall })
  t.deepEqual(report.results, [
    // Its own gid is its only group: nothing to drop, so setuid is the step that refuses.
    { options: { uid: 0 }, error: eperm('setuid') },
    { options: { uid: 0, gid: 0 }, error: eperm('setgroups') },
    { options: { gid: 0 }, error: eperm('setgroups') },
  ])
  t.is(report.fdsAfter, report.fdsBefore)
  t.deepEqual(report.childrenAfter, [])
})

const asRoot = process.getuid?.() === 0 ? serial : serial.skip

asRoot('setuid refused (no CAP_SETUID): EPERM from setuid', async (t) => {
  if (!fs.existsSync('/usr/bin/setpriv')) {
    t.fail('setpriv(1) (util-linux) is missing: cannot take CAP_SETUID away from a root process here')
    return
  }
  const cases = [{ uid: 65534 }, { uid: 65534, gid: 65534 }]
  const run = await runNode('ids.js', ['keep', JSON.stringify(cases)], {
    wrapper: ['/usr/bin/setpriv', '--bounding-set', '-setuid', '--inh-caps', '-setuid'],
  })
  t.is(run.code, 0, run.stderr)
  const report = JSON.parse(run.stdout)
  const eperm = { name: 'Error', code: 'EPERM', errno: -1, syscall: 'setuid' }
  t.deepEqual(report.results, [
    { options: cases[0], error: eperm },
    { options: cases[1], error: eperm },
  ])
  t.is(report.fdsAfter, report.fdsBefore)
  t.deepEqual(report.childrenAfter, [])
})

asRoot('uid and gid drop privileges, leaving gid as the only group', async (t) => {
  const child = await fork(['sh', '-c', 'echo $(id -u) $(id -g) $(id -G)'], { uid: 65534, gid: 65534 })
  t.is(await collectText(child), '65534 65534 65534\r\n')
})

linuxOnly(LINUX.proc, test)('an unprivileged process may ask for the uid and gid it already has', async (t) => {
  const run = await runNode('ids.js', ['drop', JSON.stringify([{ uid: 65534, gid: 65534 }])])
  const report = JSON.parse(run.stdout)
  t.deepEqual(report.results, [{ options: { uid: 65534, gid: 65534 }, output: '65534 65534 65534\r\n' }])
})

// --- Bad arguments to fork() -----------------------------------------------------------------

/** fork() must reject (asynchronously) with this error and leave nothing behind. */
async function badFork(
  t: ExecutionContext,
  argv: unknown,
  options: unknown,
  expected: { instanceOf: typeof TypeError | typeof RangeError; code: string },
): Promise<void> {
  let promise: Promise<unknown> | undefined
  const err = await leavesNothing(t, () => {
    promise = fork(bad(argv), bad(options))
    return t.throwsAsync(promise, { instanceOf: expected.instanceOf })
  })
  t.is((err as NodeJS.ErrnoException).code, expected.code)
}

const typeArg = { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }
const valueArg = { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' }
const range = { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }

linuxOnly(LINUX.proc, serial)('empty argv array', (t) => badFork(t, [], undefined, valueArg))
linuxOnly(LINUX.proc, serial)('empty program name', (t) => badFork(t, '', undefined, valueArg))
linuxOnly(LINUX.proc, serial)('empty argv[0]', (t) => badFork(t, ['', 'x'], undefined, valueArg))
linuxOnly(LINUX.proc, serial)('argv that is neither string nor array', (t) => badFork(t, 42, undefined, typeArg))
linuxOnly(LINUX.proc, serial)('argv null', (t) => badFork(t, null, undefined, typeArg))
linuxOnly(LINUX.proc, serial)('a non-string argv element', (t) => badFork(t, ['echo', 1], undefined, typeArg))
linuxOnly(LINUX.proc, serial)('an undefined argv element', (t) => badFork(t, ['echo', undefined], undefined, typeArg))
linuxOnly(LINUX.proc, serial)('NUL in the program name', (t) => badFork(t, 'ec\0ho', undefined, valueArg))
linuxOnly(LINUX.proc, serial)('NUL in an argument', (t) => badFork(t, ['echo', 'a\0b'], undefined, valueArg))
linuxOnly(LINUX.proc, serial)('NUL in an env value', (t) => badFork(t, ['true'], { env: { A: 'x\0y' } }, valueArg))
linuxOnly(LINUX.proc, serial)('NUL in an env name', (t) => badFork(t, ['true'], { env: { 'A\0B': 'x' } }, valueArg))
linuxOnly(LINUX.proc, serial)('= in an env name', (t) => badFork(t, ['true'], { env: { 'A=B': 'x' } }, valueArg))
linuxOnly(LINUX.proc, serial)('an empty env name', (t) => badFork(t, ['true'], { env: { '': 'x' } }, valueArg))
linuxOnly(LINUX.proc, serial)('an env value that is a number', (t) => badFork(t, ['true'], { env: { A: 1 } }, typeArg))
linuxOnly(LINUX.proc, serial)('an env value that is null', (t) => badFork(t, ['true'], { env: { A: null } }, typeArg))
linuxOnly(LINUX.proc, serial)('an env value that is an object', (t) => badFork(t, ['true'], { env: { A: {} } }, typeArg))
linuxOnly(LINUX.proc, serial)('env that is not an object', (t) => badFork(t, ['true'], { env: 'A=1' }, typeArg))
linuxOnly(LINUX.proc, serial)('env null', (t) => badFork(t, ['true'], { env: null }, typeArg))
linuxOnly(LINUX.proc, serial)('NUL in cwd', (t) => badFork(t, ['true'], { cwd: '/tmp\0/x' }, valueArg))
linuxOnly(LINUX.proc, serial)('cwd that is not a string', (t) => badFork(t, ['true'], { cwd: 1 }, typeArg))
linuxOnly(LINUX.proc, serial)('NUL in term', (t) => badFork(t, ['true'], { term: 'xterm\0' }, valueArg))
linuxOnly(LINUX.proc, serial)('term that is not a string', (t) => badFork(t, ['true'], { term: 256 }, typeArg))
linuxOnly(LINUX.proc, serial)('options that are not an object', (t) => badFork(t, ['true'], 'cwd', typeArg))
linuxOnly(LINUX.proc, serial)('options null', (t) => badFork(t, ['true'], null, typeArg))
linuxOnly(LINUX.proc, serial)('uid negative', (t) => badFork(t, ['true'], { uid: -1 }, range))
linuxOnly(LINUX.proc, serial)('uid fractional', (t) => badFork(t, ['true'], { uid: 1.5 }, range))
linuxOnly(LINUX.proc, serial)('uid a string', (t) => badFork(t, ['true'], { uid: 'root' }, typeArg))
linuxOnly(LINUX.proc, serial)('gid NaN', (t) => badFork(t, ['true'], { gid: NaN }, range))

const badSizes: Array<[string, number]> = [
  ['0', 0],
  ['negative', -1],
  ['fractional', 80.5],
  ['NaN', NaN],
  ['65536', 65536],
  ['Infinity', Infinity],
]

for (const dim of ['cols', 'rows'] as const) {
  for (const [name, value] of badSizes) {
    serial(`fork: ${dim} ${name}`, (t) => badFork(t, ['true'], { [dim]: value }, range))
  }
  serial(`fork: ${dim} a string`, (t) => badFork(t, ['true'], { [dim]: '80' }, typeArg))
}

// --- Bad sizes elsewhere ---------------------------------------------------------------------

linuxOnly(LINUX.proc, serial)('openpty: bad cols and rows', async (t) => {
  await leavesNothing(t, async () => {
    for (const [, value] of badSizes) {
      await t.throwsAsync(openpty({ cols: value }), range, `cols ${value}`)
      await t.throwsAsync(openpty({ rows: value }), range, `rows ${value}`)
    }
    await t.throwsAsync(openpty(bad({ cols: '80' })), typeArg)
    await t.throwsAsync(openpty(bad('80x24')), typeArg)
  })
})

serial('resize: bad cols and rows throw and change nothing', async (t) => {
  const child = await fork(['sleep', '30'])
  try {
    for (const [, value] of badSizes) {
      t.throws(() => child.resize(value, 24), range, `cols ${value}`)
      t.throws(() => child.resize(80, value), range, `rows ${value}`)
    }
    t.throws(() => child.resize(bad('80'), 24), typeArg)
    t.deepEqual([child.cols, child.rows], [80, 24])
    t.deepEqual(getWindowSize(child.fd), { cols: 80, rows: 24 })
  } finally {
    child.kill('SIGKILL')
    await child.wait()
  }
})

serial('setWindowSize: bad sizes', async (t) => {
  const { master, slave } = await openpty()
  try {
    for (const [, value] of badSizes) {
      t.throws(() => setWindowSize(master, { cols: value, rows: 24 }), range, `cols ${value}`)
    }
    t.throws(() => setWindowSize(master, bad({ cols: 80 })), valueArg)
    t.throws(() => setWindowSize(master, bad(null)), typeArg)
    t.deepEqual(getWindowSize(slave), { cols: 80, rows: 24 })
  } finally {
    fs.closeSync(master)
    fs.closeSync(slave)
  }
})

// --- kill() ----------------------------------------------------------------------------------

serial('kill: an unknown signal name throws and the child lives on', async (t) => {
  const child = await fork(['sleep', '30'])
  try {
    for (const signal of ['SIGFOO', 'sigterm', 'TERM', '']) {
      t.throws(() => child.kill(bad(signal)), { instanceOf: TypeError, code: 'ERR_UNKNOWN_SIGNAL' }, signal)
    }
    for (const signal of [999, -1, 1.5]) {
      t.throws(() => child.kill(signal), { instanceOf: TypeError, code: 'ERR_UNKNOWN_SIGNAL' }, String(signal))
    }
    t.true(child.kill(0))
    t.is(child.exitStatus, undefined)
  } finally {
    child.kill('SIGKILL')
  }
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGKILL', status: 9 })
})

serial('kill: an unknown signal name after the exit still throws', async (t) => {
  const child = await exited(['true'])
  t.throws(() => child.kill(bad('SIGFOO')), { instanceOf: TypeError, code: 'ERR_UNKNOWN_SIGNAL' })
})

// --- write() and resize() after the exit or the hang-up ---------------------------------------

function writeError(child: PtyProcess, data: string): Promise<NodeJS.ErrnoException | null | undefined> {
  child.on('error', () => {})
  return new Promise((resolve) => child.write(data, (err) => resolve(err)))
}

serial('write() after the exit (output never read): ERR_PTY_EXITED', async (t) => {
  const child = await exited(['true'])
  const err = await writeError(child, 'late\n')
  t.is(err?.code, 'ERR_PTY_EXITED')
})

function readToEnd(child: PtyProcess): Promise<void> {
  // Flowing mode: `for await` would destroy the stream at its end (Node's own semantics).
  return new Promise((resolve) => child.on('data', () => {}).on('end', resolve))
}

test('write() after the exit (output read to the end): ERR_PTY_EXITED', async (t) => {
  const child = await fork(['true'])
  await readToEnd(child)
  await child.wait()
  const err = await writeError(child, 'late\n')
  t.is(err?.code, 'ERR_PTY_EXITED')
})

serial('resize() after the exit (output never read): ERR_PTY_EXITED', async (t) => {
  const child = await exited(['true'])
  t.throws(() => child.resize(100, 30), { code: 'ERR_PTY_EXITED' })
})

test('resize() after the exit (output read to the end, stream destroyed by for await): ERR_PTY_EXITED', async (t) => {
  const child = await fork(['true'])
  await collectText(child)
  await child.wait()
  t.throws(() => child.resize(100, 30), { code: 'ERR_PTY_EXITED' })
})

serial('write() after close(): ERR_PTY_CLOSED', async (t) => {
  const child = await fork(['sleep', '30'])
  child.close()
  const err = await writeError(child, 'late\n')
  t.is(err?.code, 'ERR_PTY_CLOSED')
  child.kill('SIGKILL')
  await child.wait()
})

serial('resize() after close(): ERR_PTY_CLOSED', async (t) => {
  const child = await fork(['sleep', '30'])
  child.close()
  t.throws(() => child.resize(100, 30), { code: 'ERR_PTY_CLOSED' })
  child.kill('SIGKILL')
  await child.wait()
})

// --- getWindowSize() on what is not an open terminal ------------------------------------------

serial('getWindowSize of a closed fd: EBADF from ioctl', async (t) => {
  const { master, slave } = await openpty()
  fs.closeSync(slave)
  fs.closeSync(master)
  const err = t.throws(() => getWindowSize(master))
  t.deepEqual(sysFields(err), { name: 'Error', code: 'EBADF', errno: -9, syscall: 'ioctl', path: undefined })
})

serial('getWindowSize of a non-terminal: ENOTTY from ioctl', async (t) => {
  const fd = fs.openSync('/dev/null', 'r')
  try {
    const err = t.throws(() => getWindowSize(fd))
    t.deepEqual(sysFields(err), { name: 'Error', code: 'ENOTTY', errno: -25, syscall: 'ioctl', path: undefined })
    t.throws(() => setWindowSize(fd, { cols: 80, rows: 24 }), { code: 'ENOTTY' })
  } finally {
    fs.closeSync(fd)
  }
})

serial('getWindowSize of a master that close() released: EBADF', async (t) => {
  const child = await fork(['sleep', '30'])
  const fd = child.fd
  child.close()
  t.is(child.fd, -1)
  t.throws(() => getWindowSize(fd), { code: 'EBADF' })
  child.kill('SIGKILL')
  await child.wait()
})

serial('getWindowSize: an fd that is not a non-negative integer', (t) => {
  t.throws(() => getWindowSize(-1), range)
  t.throws(() => getWindowSize(1.5), range)
  t.throws(() => getWindowSize(bad('0')), typeArg)
})
