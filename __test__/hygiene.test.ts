// What the child inherits, and what it does not: fds, signal dispositions and mask.

import * as fs from 'node:fs'
import { execFileSync, spawn } from 'node:child_process'

import test from 'ava'

import { fork, openpty } from '../index'
import { collectText, fdTable, isCloexec, LINUX, linuxOnly, LIST_FDS, PYTHON, tempDir } from './helpers'

linuxOnly(LINUX.proc, test)('the child has no fd beyond 0, 1 and 2 while the parent holds fds, ptys and other children', async (t) => {
  const { dir, remove } = tempDir()
  const files = [fs.openSync(`${dir}/a`, 'w'), fs.openSync(`${dir}/b`, 'w'), fs.openSync('/dev/null', 'r')]
  const pair = await openpty()
  const other = await fork(['sleep', '30'])
  try {
    const child = await fork(LIST_FDS)
    t.is(await collectText(child), '0 1 2 3\r\n')
  } finally {
    other.kill('SIGKILL')
    await other.wait()
    for (const fd of [...files, pair.master, pair.slave]) fs.closeSync(fd)
    remove()
  }
})

// Node opens everything close-on-exec, and even marks the fds it inherits at startup so; an fd
// without the flag has to come from native code. A constructor in a tiny shared object, loaded
// with process.dlopen, clears the flag on an fd of ours (the load then fails: it is no addon).
const CLEAR_CLOEXEC_C = `
#include <fcntl.h>
#include <stdlib.h>
__attribute__((constructor)) static void clear_cloexec(void) {
  const char *fd = getenv("NAPI_PTY_CLEAR_CLOEXEC_FD");
  if (fd) fcntl(atoi(fd), F_SETFD, 0);
}
`
const cc = ['/usr/bin/cc', '/usr/bin/gcc', '/usr/bin/clang'].find((p) => fs.existsSync(p))

;(cc ? linuxOnly(LINUX.proc, test) : test.skip)('the child has no fd beyond 0, 1 and 2 although the parent has an fd without close-on-exec', async (t) => {
  const { dir, remove } = tempDir()
  const fd = fs.openSync(`${dir}/leaky`, 'w')
  try {
    fs.writeFileSync(`${dir}/clear.c`, CLEAR_CLOEXEC_C)
    execFileSync(cc!, ['-shared', '-fPIC', '-o', `${dir}/clear.so`, `${dir}/clear.c`])
    process.env.NAPI_PTY_CLEAR_CLOEXEC_FD = String(fd)
    t.throws(() => process.dlopen({ exports: {} }, `${dir}/clear.so`))
    // exec would now pass it on.
    t.false(isCloexec(fd))
    const child = await fork(LIST_FDS)
    t.is(await collectText(child), '0 1 2 3\r\n')
  } finally {
    delete process.env.NAPI_PTY_CLEAR_CLOEXEC_FD
    fs.closeSync(fd)
    remove()
  }
})

linuxOnly(LINUX.proc, test)('the parent keeps no slave fd', async (t) => {
  const child = await fork(['sleep', '30'])
  try {
    const targets = [...fdTable().values()]
    t.false(targets.includes(child.ptsName))
    t.true(targets.includes('/dev/ptmx'))
  } finally {
    child.kill('SIGKILL')
    await child.wait()
  }
})

linuxOnly(LINUX.proc, test)('a child_process child does not inherit a pty master or slave', async (t) => {
  const pair = await openpty()
  const pty = await fork(['sleep', '30'])
  try {
    const script = [
      'import os',
      'for f in sorted(os.listdir("/proc/self/fd")):',
      '    try: print(f, os.readlink("/proc/self/fd/" + f))',
      '    except OSError: pass',
    ].join('\n')
    const cp = spawn(PYTHON, ['-I', '-S', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    cp.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    const code = await new Promise((resolve) => cp.on('close', resolve))
    t.is(code, 0)
    const targets = out.trim().split('\n').map((line) => line.split(' ')[1])
    t.deepEqual(targets.slice(0, 3), ['/dev/null', targets[1], '/dev/null'])
    t.false(targets.includes('/dev/ptmx'))
    t.false(targets.includes(pair.path))
    t.false(targets.includes(pty.ptsName))
  } finally {
    pty.kill('SIGKILL')
    await pty.wait()
    fs.closeSync(pair.master)
    fs.closeSync(pair.slave)
  }
})

function statusField(text: string, name: string): string {
  const match = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(text)
  if (!match) throw new Error(`no ${name} in ${JSON.stringify(text)}`)
  return match[1]
}

linuxOnly(LINUX.proc, test)('the child ignores, blocks and catches no signal although the parent does', async (t) => {
  const handler = () => {}
  process.on('SIGUSR1', handler)
  process.on('SIGWINCH', handler)
  try {
    const parent = fs.readFileSync('/proc/self/status', 'utf8')
    // Node ignores SIGPIPE and now catches SIGUSR1: there is something not to inherit.
    t.not(BigInt(`0x${statusField(parent, 'SigIgn')}`) & (1n << 12n), 0n)
    t.not(BigInt(`0x${statusField(parent, 'SigCgt')}`) & (1n << 9n), 0n)
    const child = await fork(['cat', '/proc/self/status'])
    const status = await collectText(child)
    t.is(statusField(status, 'SigIgn'), '0000000000000000')
    t.is(statusField(status, 'SigBlk'), '0000000000000000')
    t.is(statusField(status, 'SigCgt'), '0000000000000000')
    t.is(statusField(status, 'SigPnd'), '0000000000000000')
  } finally {
    process.off('SIGUSR1', handler)
    process.off('SIGWINCH', handler)
  }
})

test('yes | head -1 ends: SIGPIPE is back to its default', async (t) => {
  const child = await fork(['sh', '-c', 'yes | head -n 1'])
  t.is(await collectText(child), 'y\r\n')
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
})

test('the writer of a broken pipe is killed by SIGPIPE', async (t) => {
  const child = await fork(['bash', '-c', 'yes | head -n 1; echo "${PIPESTATUS[0]}"'])
  t.is(await collectText(child), 'y\r\n141\r\n')
})
