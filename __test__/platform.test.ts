// What every platform must give the same, checked without /proc so that these run on macOS
// too: the typed errors a user meets, the terminal's name, a child's exit and signals. On Linux
// the same checks run again on the shared POSIX paths the macOS backend takes.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import test from 'ava'

import { fork } from '../index'
import { collectText, LINUX, linuxOnly, runNode, sysFields, tempDir } from './helpers'

const { errno } = os.constants
const tmp = tempDir()
test.after.always(() => tmp.remove())

test('the typed errors of a failed exec are the same on every platform', async (t) => {
  const missing = path.join(tmp.dir, 'missing')
  const plain = path.join(tmp.dir, 'plain')
  fs.writeFileSync(plain, '#!/bin/sh\necho should not run\n', { mode: 0o644 })
  const cases: Array<[string[], Parameters<typeof fork>[1], Record<string, unknown>]> = [
    [['napi-pty-no-such-program'], undefined, { code: 'ENOENT', errno: -errno.ENOENT, syscall: 'execvp', path: 'napi-pty-no-such-program' }],
    [[missing], undefined, { code: 'ENOENT', errno: -errno.ENOENT, syscall: 'execve', path: missing }],
    [[plain], undefined, { code: 'EACCES', errno: -errno.EACCES, syscall: 'execve', path: plain }],
    [['true'], { cwd: missing }, { code: 'ENOENT', errno: -errno.ENOENT, syscall: 'chdir', path: missing }],
  ]
  for (const [argv, options, expected] of cases) {
    const err = await t.throwsAsync(fork(argv, options))
    t.deepEqual(sysFields(err), { name: 'Error', ...expected }, argv.join(' '))
  }
})

test('the child runs on its own controlling terminal, whose name ptsName gives', async (t) => {
  // /dev/tty opens only for a process with a controlling terminal; `tty` names stdin's.
  const child = await fork(['sh', '-c', 'exec 3</dev/tty && tty'])
  const output = await collectText(child)
  t.is(output.trim(), child.ptsName)
  t.regex(child.ptsName, /^\/dev\/(pts\/\d+|ttys\d+)$/)
  t.is((await child.wait()).exitCode, 0)
})

test('a signal reaches the child until it is reaped, and none after', async (t) => {
  for (let i = 0; i < 20; i++) {
    const child = await fork(['sleep', '100'])
    child.kill('SIGTERM')
    const status = await child.wait()
    t.is(status.signal, 'SIGTERM')
    // Reaped: its pid may belong to anyone now; kill must not reach it.
    t.notThrows(() => child.kill('SIGKILL'))
  }
})

// The whole suite runs on these paths in CI (`NAPI_PTY_PORTABLE=1 npm run test:js`); this keeps
// a taste of it in every run.
linuxOnly('only the Linux backend has paths to choose between', test)('NAPI_PTY_PORTABLE=1 (macOS\'s shared paths): a child on its own terminal, a typed exec error', async (t) => {
  const run = await runNode('portable.js', [], { wrapper: ['env', 'NAPI_PTY_PORTABLE=1'] })
  t.is(run.code, 0, run.stderr)
  t.deepEqual(JSON.parse(run.stdout), { output: 'ok', exitCode: 0, error: 'ENOENT chdir' })
})

// io_uring is the default read path on Linux; CI runs the suite with NAPI_PTY_READ=uring set, and
// in that run the ring is required, so that a refused ring cannot pass for it. Elsewhere (a
// container whose seccomp profile refuses io_uring, an older kernel) the fallback to epoll must
// deliver the same bytes. CI runs the whole suite again with NAPI_PTY_READ=epoll.
const ringRequired = process.env.NAPI_PTY_READ === 'uring'

linuxOnly('io_uring exists on Linux only', test)(`NAPI_PTY_READ=uring reads through io_uring${ringRequired ? '' : ' (or, where refused, epoll)'}, every byte in order`, async (t) => {
  const run = await runNode('read-path.js', ['20000'], { wrapper: ['env', 'NAPI_PTY_READ=uring'] })
  t.is(run.code, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  if (!ringRequired && result.path === 'epoll') t.log('io_uring refused here: the epoll fallback was checked instead')
  const path = ringRequired ? 'uring' : result.path === 'epoll' ? 'epoll' : 'uring'
  t.deepEqual(result, { before: 'none', path, exitCode: 0, bytes: result.bytes, exact: true })
  t.true(result.bytes > 100000)
})

linuxOnly('io_uring exists on Linux only', test)('without NAPI_PTY_READ the reactor reads as NAPI_PTY_READ=uring does: io_uring where the kernel grants it', async (t) => {
  const asked = JSON.parse((await runNode('read-path.js', ['2000'], { wrapper: ['env', 'NAPI_PTY_READ=uring'] })).stdout)
  const run = await runNode('read-path.js', ['2000'], { wrapper: ['env', '-u', 'NAPI_PTY_READ', '-u', 'NAPI_PTY_PORTABLE'] })
  t.is(run.code, 0, run.stderr)
  t.like(JSON.parse(run.stdout), { before: 'none', path: ringRequired ? 'uring' : asked.path, exitCode: 0, exact: true })
})

test('NAPI_PTY_READ=epoll, and NAPI_PTY_PORTABLE=1 (macOS has no io_uring), read through epoll', async (t) => {
  for (const wrapper of [['env', 'NAPI_PTY_READ=epoll'], ['env', '-u', 'NAPI_PTY_READ', 'NAPI_PTY_PORTABLE=1']]) {
    const run = await runNode('read-path.js', ['2000'], { wrapper })
    t.is(run.code, 0, run.stderr)
    t.like(JSON.parse(run.stdout), { before: 'none', path: 'epoll', exitCode: 0, exact: true }, wrapper.join(' '))
  }
})

// Where the ring is refused for real: many containers run with a locked-memory limit of 64 KiB
// and without CAP_IPC_LOCK, and the kernel counts a ring's memory against that limit (this
// machine's kernel does; in the run that requires the ring, so must CI's). Root is given the
// same conditions by dropping the capability; a user without it has them already.
linuxOnly(LINUX.setpriv, test)(`a ring refused for RLIMIT_MEMLOCK leaves the reactor on epoll${ringRequired ? '' : ' (where the kernel counts the ring)'}, every byte in order`, async (t) => {
  const dropLock = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-ipc_lock', '--inh-caps', '-ipc_lock'] : []
  const wrapper = ['prlimit', '--memlock=65536:65536', ...dropLock, 'env', 'NAPI_PTY_READ=uring']
  const run = await runNode('read-path.js', ['20000'], { wrapper })
  t.is(run.code, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  if (!ringRequired && result.path === 'uring') t.log('this kernel does not count the ring against RLIMIT_MEMLOCK: only the bytes were checked')
  const path = ringRequired ? 'epoll' : result.path
  t.deepEqual(result, { before: 'none', path, exitCode: 0, bytes: result.bytes, exact: true })
  t.true(result.bytes > 100000)
})
