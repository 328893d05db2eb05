import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'

import test from 'ava'

import { fork, getWindowSize, type PtyProcess } from '../index'
import { collectText, isCloexec, LINUX, linuxOnly, OutputReader, procStat, PYTHON, runNode, tempDir } from './helpers'

/** Forks, reads the whole output and waits: the three things most tests want. */
async function run(argv: string[], options?: Parameters<typeof fork>[1]) {
  const child = await fork(argv, options)
  const output = await collectText(child)
  return { child, output, status: await child.wait() }
}

test('a child prints on its terminal and its exit code arrives', async (t) => {
  const { output, status } = await run(['sh', '-c', 'echo hello; exit 3'])
  t.is(output, 'hello\r\n')
  t.deepEqual(status, { exitCode: 3, signal: null, status: 3 << 8 })
})

// --- CPython test_pty -------------------------------------------------------------------------

test('the child sees a terminal on stdin, stdout and stderr', async (t) => {
  const { output } = await run(['sh', '-c', 'test -t 0 && test -t 1 && test -t 2 && echo tty'])
  t.is(output, 'tty\r\n')
})

linuxOnly(LINUX.proc, test)('the child is a session leader, its own process group, and in the foreground', async (t) => {
  const child = await fork(['cat', '/proc/self/stat'])
  const rdev = fs.statSync(child.ptsName).rdev
  const output = await collectText(child)
  const [, , pgrp, session, ttyNr, tpgid] = output.slice(output.lastIndexOf(')') + 2).split(' ')
  t.is(Number(session), child.pid)
  t.is(Number(pgrp), child.pid)
  t.is(Number(tpgid), child.pid)
  t.is(Number(ttyNr), rdev)
})

test('the controlling terminal is ptsName', async (t) => {
  const child = await fork(['sh', '-c', 'tty; exec </dev/tty && echo opened'])
  t.regex(child.ptsName, /^\/dev\/pts\/\d+$/)
  t.is(await collectText(child), `${child.ptsName}\r\nopened\r\n`)
})

linuxOnly(LINUX.proc, test)('pid is the child and fd is its master, close-on-exec', async (t) => {
  const child = await fork(['sleep', '30'])
  try {
    t.is(procStat(child.pid)?.[1], String(process.pid))
    t.is(fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), 'sleep\x0030\x00')
    t.is(fs.readlinkSync(`/proc/self/fd/${child.fd}`), '/dev/ptmx')
    t.true(isCloexec(child.fd))
  } finally {
    child.kill('SIGKILL')
    await child.wait()
  }
})

// --- Exit codes and signals -------------------------------------------------------------------

test('exit 0', async (t) => {
  const { status } = await run(['true'])
  t.deepEqual(status, { exitCode: 0, signal: null, status: 0 })
})

test('exit 42', async (t) => {
  const { child, status } = await run(['sh', '-c', 'exit 42'])
  t.deepEqual(status, { exitCode: 42, signal: null, status: 42 << 8 })
  t.deepEqual(child.exitStatus, status)
})

test('the exit event carries the code and the signal', async (t) => {
  const child = await fork(['sh', '-c', 'exit 7'])
  const args = await new Promise<unknown[]>((resolve) => child.on('exit', (...a: unknown[]) => resolve(a)))
  t.deepEqual(args, [7, null])
})

test('exitStatus is undefined while the child runs', async (t) => {
  const child = await fork(['sleep', '30'])
  t.is(child.exitStatus, undefined)
  child.kill('SIGKILL')
  await child.wait()
  t.deepEqual(child.exitStatus, { exitCode: null, signal: 'SIGKILL', status: 9 })
})

test('kill("SIGKILL") kills the child', async (t) => {
  const child = await fork(['sleep', '30'])
  t.true(child.kill('SIGKILL'))
  const exited = new Promise<unknown[]>((resolve) => child.on('exit', (...a: unknown[]) => resolve(a)))
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGKILL', status: 9 })
  t.deepEqual(await exited, [null, 'SIGKILL'])
})

test('kill() sends SIGTERM by default', async (t) => {
  const child = await fork(['sleep', '30'])
  t.true(child.kill())
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGTERM', status: 15 })
})

test('kill() takes a signal number', async (t) => {
  const child = await fork(['sleep', '30'])
  t.true(child.kill(10))
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGUSR1', status: 10 })
})

test('a signal the child sends itself is reported', async (t) => {
  const { status } = await run(['sh', '-c', 'ulimit -c 0; kill -s QUIT $$'])
  t.deepEqual(status, { exitCode: null, signal: 'SIGQUIT', status: 3 })
})

test('kill() after the exit returns false', async (t) => {
  const { child } = await run(['true'])
  t.false(child.kill())
  t.false(child.kill('SIGKILL'))
})

test('kill(0) probes the child', async (t) => {
  const child = await fork(['sleep', '30'])
  t.true(child.kill(0))
  child.kill('SIGKILL')
  await child.wait()
  t.false(child.kill(0))
})

// --- argv ------------------------------------------------------------------------------------

test('argv reaches the program verbatim', async (t) => {
  const { output } = await run(['printf', '[%s]', 'a b', '', '$HOME', '*', "'q'"])
  t.is(output, "[a b][][$HOME][*]['q']")
})

test('a string argv is a program name, never a shell line', async (t) => {
  await t.throwsAsync(fork('echo hi'), { code: 'ENOENT', message: "ENOENT: no such file or directory, execvp 'echo hi'" })
  const child = await fork('tty')
  t.is(await collectText(child), `${child.ptsName}\r\n`)
})

test('argv[0] is looked up on the PATH of the child environment', async (t) => {
  const { dir, remove } = tempDir()
  try {
    fs.writeFileSync(path.join(dir, 'napi-pty-hello'), '#!/bin/sh\necho "found $0"\n', { mode: 0o755 })
    const { output } = await run(['napi-pty-hello'], { env: { PATH: `/nonexistent:${dir}` } })
    t.is(output, `found ${dir}/napi-pty-hello\r\n`)
  } finally {
    remove()
  }
})

test('a relative program path is taken from cwd', async (t) => {
  const { dir, remove } = tempDir()
  try {
    fs.writeFileSync(path.join(dir, 'here'), '#!/bin/sh\necho here\n', { mode: 0o755 })
    const { output } = await run(['./here'], { cwd: dir })
    t.is(output, 'here\r\n')
  } finally {
    remove()
  }
})

test('without PATH in env, argv[0] is looked up on the default path', async (t) => {
  const { output } = await run(['env'], { env: {} })
  t.is(output, 'TERM=xterm-256color\r\n')
})

// --- cwd and env -----------------------------------------------------------------------------

test('cwd sets the working directory', async (t) => {
  const { dir, remove } = tempDir()
  try {
    const { output } = await run(['pwd', '-P'], { cwd: dir })
    t.is(output, `${dir}\r\n`)
  } finally {
    remove()
  }
})

test('without cwd the child starts in ours', async (t) => {
  const { output } = await run(['pwd', '-P'])
  t.is(output, `${fs.realpathSync(process.cwd())}\r\n`)
})

test('env is the whole environment; undefined entries are dropped; TERM defaults to xterm-256color', async (t) => {
  const { output } = await run(['/usr/bin/env'], { env: { A: '1', B: 'two words', C: undefined, EMPTY: '' } })
  t.deepEqual(output.split('\r\n').sort(), ['', 'A=1', 'B=two words', 'EMPTY=', 'TERM=xterm-256color'])
})

test('env defaults to process.env', async (t) => {
  process.env.NAPI_PTY_TEST_VAR = 'from the parent'
  try {
    const { output } = await run(['sh', '-c', 'echo "$NAPI_PTY_TEST_VAR"'])
    t.is(output, 'from the parent\r\n')
  } finally {
    delete process.env.NAPI_PTY_TEST_VAR
  }
})

// Serial (ava runs these before the concurrent tests): HOME is briefly gone from the process.
test.serial('a variable deleted from process.env does not reach the child', async (t) => {
  const home = process.env.HOME
  t.truthy(home)
  delete process.env.HOME
  try {
    const { output } = await run(['sh', '-c', 'echo "HOME=${HOME-unset}"'])
    t.is(output, 'HOME=unset\r\n')
  } finally {
    process.env.HOME = home
  }
})

test("in a worker, env defaults to the worker's own process.env", async (t) => {
  // A worker's process.env is a copy: what it sets there is not in the real environment.
  const code = `
    const { parentPort } = require('node:worker_threads')
    const { fork } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'))})
    process.env.NAPI_PTY_WORKER_VAR = 'worker'
    fork(['sh', '-c', 'echo "$NAPI_PTY_WORKER_VAR"']).then(async (child) => {
      let text = ''
      for await (const chunk of child) text += chunk
      parentPort.postMessage(text)
    })`
  const worker = new Worker(code, { eval: true })
  const [text] = await once(worker, 'message')
  await worker.terminate()
  t.is(text, 'worker\r\n')
  t.is(process.env.NAPI_PTY_WORKER_VAR, undefined)
})

test('TERM comes from env.TERM when there is no term option', async (t) => {
  const { output } = await run(['/usr/bin/env'], { env: { TERM: 'vt100' } })
  t.is(output, 'TERM=vt100\r\n')
})

test('the term option overrides env.TERM', async (t) => {
  const { output } = await run(['/usr/bin/env'], { env: { TERM: 'vt100' }, term: 'dumb' })
  t.is(output, 'TERM=dumb\r\n')
})

test('the term option applies to the default environment', async (t) => {
  const { output } = await run(['sh', '-c', 'echo "$TERM"'], { term: 'screen' })
  t.is(output, 'screen\r\n')
})

// --- Window size -----------------------------------------------------------------------------

test('the child sees 80x24 by default', async (t) => {
  const { output } = await run(['stty', 'size'])
  t.is(output, '24 80\r\n')
})

test('the child sees the cols and rows given', async (t) => {
  const { child, output } = await run(['stty', 'size'], { cols: 132, rows: 43 })
  t.is(output, '43 132\r\n')
  t.is(child.cols, 132)
  t.is(child.rows, 43)
})

test('resize is seen by stty size in the child', async (t) => {
  const child = await fork(['sh', '-c', 'stty size; read line; stty size'])
  const reader = new OutputReader(child)
  await reader.until('24 80\r\n')
  child.resize(100, 30)
  t.is(child.cols, 100)
  t.is(child.rows, 30)
  t.deepEqual(getWindowSize(child.fd), { cols: 100, rows: 30 })
  child.write('\n')
  t.is(await reader.ended, '24 80\r\n\r\n30 100\r\n')
  t.is((await child.wait()).exitCode, 0)
})

test('resize sends SIGWINCH to the child', async (t) => {
  const script = [
    'import os, signal',
    'signal.signal(signal.SIGWINCH, lambda *a: print("winch", *os.get_terminal_size(0), flush=True))',
    'print("ready", flush=True)',
    'signal.pause()',
  ].join('\n')
  const child = await fork([PYTHON, '-I', '-S', '-c', script])
  const reader = new OutputReader(child)
  await reader.until('ready\r\n')
  child.resize(90, 20)
  t.is(await reader.ended, 'ready\r\nwinch 90 20\r\n')
  t.is((await child.wait()).exitCode, 0)
})

// --- Input -----------------------------------------------------------------------------------

test('write() reaches the child and end() sends end-of-file', async (t) => {
  const child = await fork(['cat'])
  const reader = new OutputReader(child)
  child.write('hello\n')
  await reader.until('hello\r\nhello\r\n')
  child.end()
  t.is(await reader.ended, 'hello\r\nhello\r\n')
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
})

test('end() after a partial line still gives the child end-of-file', async (t) => {
  const child = await fork(['sh', '-c', 'stty -echo; echo ready; wc -c'])
  const reader = new OutputReader(child)
  await reader.until('ready\r\n')
  child.end('abc')
  t.regex(await reader.ended, /^ready\r\n *3\r\n$/)
  t.is((await child.wait()).exitCode, 0)
})

test('input has backpressure: write() returns false, then drain', async (t) => {
  const size = 1 << 20
  // The reader is stopped while the test writes, so the terminal's buffer fills and the write
  // cannot finish at once: Writable returns true for a chunk that _write finished in the same
  // call, whatever its size, and a reader on another core can drain 1 MiB that fast.
  const count = `import sys\nn = 0\nwhile n < ${size}:\n  b = sys.stdin.buffer.raw.read(${size} - n)\n  if not b: break\n  n += len(b)\nprint(n)`
  const child = await fork(['sh', '-c', `stty raw -echo; echo ready; exec ${PYTHON} -I -S -c '${count}'`])
  const reader = new OutputReader(child)
  await reader.until('ready')
  t.true(child.kill('SIGSTOP'))
  const full = !child.write(Buffer.alloc(size, 'z'))
  t.true(full)
  t.true(child.kill('SIGCONT'))
  await new Promise((resolve) => child.once('drain', resolve))
  t.regex(await reader.ended, new RegExp(`^ready\\n *${size}\\n$`))
  t.is((await child.wait()).exitCode, 0)
})

// --- Output and the exit ---------------------------------------------------------------------

test('when the output is read, exit and wait() come after its end', async (t) => {
  const child = await fork(['sh', '-c', 'echo bye'])
  const events: string[] = []
  child.on('data', () => events.push('data'))
  child.on('end', () => events.push('end'))
  child.on('exit', () => events.push('exit'))
  await child.wait()
  events.push('wait')
  t.deepEqual(events, ['data', 'end', 'exit', 'wait'])
})

test('a child that exits long after its output: end, then exit with its status (100 children, half not read)', async (t) => {
  // The hang-up and the exit reach the reactor together here, and JavaScript hears of both in
  // one event: its end must still come first, and an unread child's exit must still come.
  const runs = Array.from({ length: 100 }, async (_, i) => {
    const child = await fork(['sh', '-c', 'printf x; sleep 0.2; exit 3'])
    const events: string[] = []
    if (i % 2 === 0) {
      child.on('data', () => events.push('data'))
      child.on('end', () => events.push('end'))
    }
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    events.push(`exit ${code}`)
    return events.join(',')
  })
  const seen = await Promise.all(runs)
  const expected = seen.map((_, i) => (i % 2 === 0 ? 'data,end,exit 3' : 'exit 3'))
  t.deepEqual(seen, expected)
})

test('output waiting in the terminal before the first read comes first, whole and in order (200 times)', async (t) => {
  // Whether the output is waiting for the first read or still coming, all of it arrives.
  const expected = Array.from({ length: 700 }, (_, i) => `${i + 1}\r\n`).join('')
  const wrong: number[] = []
  for (let i = 0; i < 200; i++) {
    const child = await fork(['seq', '700'])
    // 3.4 KB: less than the kernel holds for a terminal nobody reads (about 9 KB here), so the
    // child can exit before the first read, with all of it waiting.
    if (i % 2 === 0) await child.wait()
    if ((await collectText(child)) !== expected) wrong.push(i)
  }
  t.deepEqual(wrong, [])
})

test('output that keeps coming is gathered into fewer chunks than the child wrote', async (t) => {
  // 400 writes of 1,000 bytes, 0.2 ms apart: when every read went to JavaScript at once they
  // came as 377-382 chunks; gathered while they stream, as about 55.
  const script = 'import os, time\nfor _ in range(400):\n    os.write(1, b"x" * 1000)\n    time.sleep(0.0002)\n'
  const child = await fork([PYTHON, '-c', script])
  let chunks = 0
  let bytes = 0
  child.on('data', (chunk: Buffer) => {
    chunks++
    bytes += chunk.length
  })
  await once(child, 'end')
  t.is(bytes, 400_000)
  t.log(`${chunks} chunks`)
  t.true(chunks <= 200, `${chunks} chunks`)
})

test('output held back while it streams still arrives once the child goes quiet', async (t) => {
  // The child floods, then waits for a line: unless the held chunk goes out on its own, the
  // last bytes never arrive and the child never exits.
  const child = await fork(['sh', '-c', 'head -c 300000 /dev/zero; read line'])
  let bytes = 0
  await new Promise<void>((resolve) => {
    child.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes === 300_000) resolve()
    })
  })
  child.write('\n')
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
})

test('output chunks are Buffers over the bytes the reactor read: a transfer cannot detach them (Node copies)', async (t) => {
  const run = await runNode('output-chunks.js')
  t.deepEqual(JSON.parse(run.stdout), { exact: true, many: true, detached: false }, run.stderr)
})

test('NAPI_PTY_COPY_OUTPUT=1 takes the copy Electron needs: every byte, in Buffers V8 allocated (a transfer detaches them)', async (t) => {
  const run = await runNode('output-chunks.js', [], { wrapper: ['env', 'NAPI_PTY_COPY_OUTPUT=1'] })
  t.deepEqual(JSON.parse(run.stdout), { exact: true, many: true, detached: true }, run.stderr)
})

test('for await reads the output as Buffers', async (t) => {
  const child = await fork(['printf', 'abc'])
  const chunks: unknown[] = []
  for await (const chunk of child as PtyProcess) chunks.push(chunk)
  t.true(chunks.every((c) => Buffer.isBuffer(c)))
  t.is(Buffer.concat(chunks as Buffer[]).toString(), 'abc')
})

test('end() lets cat exit 0, never a hang-up, 200 times (cat closes its terminal fds before exiting)', async (t) => {
  const statuses: Array<string | number | null> = []
  for (let i = 0; i < 200; i++) {
    const child = await fork(['cat'])
    let text = ''
    const ended = new Promise<void>((resolve) => {
      child.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        if (text === 'x\r\nx\r\n') child.end()
      })
      child.on('end', resolve)
    })
    child.write('x\n')
    await ended
    const status = await child.wait()
    if (status.exitCode !== 0) statuses.push(status.signal ?? status.exitCode)
  }
  t.deepEqual(statuses, [])
})
