// Reaping, hanging up, disposing, grandchildren, ref/unref, and who reads the master.

import * as fs from 'node:fs'

import test from 'ava'

import { fork } from '../index'
import { decodeStatus } from '../lib/validate'
import { collectText, killQuietly, LINUX, linuxOnly, OutputReader, procStat, procState, runNode, terminalHolders, waitFor } from './helpers'

linuxOnly(LINUX.proc, test)('children that exit are reaped although nobody waits or reads', async (t) => {
  const children = await Promise.all(Array.from({ length: 10 }, () => fork(['true'])))
  const pids = children.map((c) => c.pid)
  await waitFor(() => pids.every((pid) => procState(pid) === undefined))
  t.deepEqual(pids.map(procState), pids.map(() => undefined))
})

linuxOnly(LINUX.proc, test)('children whose output is read are reaped although nobody waits', async (t) => {
  const children = await Promise.all(Array.from({ length: 10 }, (_, i) => fork(['echo', String(i)])))
  const outputs = await Promise.all(children.map(collectText))
  t.deepEqual(outputs, children.map((_, i) => `${i}\r\n`))
  const pids = children.map((c) => c.pid)
  await waitFor(() => pids.every((pid) => procState(pid) === undefined))
  t.deepEqual(pids.map(procState), pids.map(() => undefined))
})

linuxOnly(LINUX.proc, test)('a killed child is reaped although nobody waits', async (t) => {
  const child = await fork(['sleep', '30'])
  child.kill('SIGKILL')
  await waitFor(() => procState(child.pid) === undefined)
  t.is(procState(child.pid), undefined)
})

test('output the child wrote before exiting is still there for a reader that comes later', async (t) => {
  const child = await fork(['echo', 'kept'])
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
  t.is(await collectText(child), 'kept\r\n')
})

linuxOnly(LINUX.proc, test)('a child that is done and dropped, output never read, has its master closed by GC', async (t) => {
  const run = await runNode('gc.js', [], { nodeArgs: ['--expose-gc'], timeoutMs: 30000 })
  t.is(run.code, 0, run.stderr)
  t.deepEqual(JSON.parse(run.stdout), { before: 0, during: 50, after: 0 })
})

test('close() hangs up: the output ends, the child gets SIGHUP, and a second close() is fine', async (t) => {
  const child = await fork(['cat'])
  const reader = new OutputReader(child)
  child.close()
  t.notThrows(() => child.close())
  t.is(child.fd, -1)
  t.is(await reader.ended, '')
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGHUP', status: 1 })
  t.notThrows(() => child.close())
})

test('close() before the output is ever read', async (t) => {
  const child = await fork(['cat'])
  child.close()
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGHUP', status: 1 })
  t.is(await collectText(child), '')
})

test('destroy() hangs up like close()', async (t) => {
  const child = await fork(['cat'])
  child.destroy()
  t.is(child.fd, -1)
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGHUP', status: 1 })
})

test('wait() can be called any number of times, before and after the exit', async (t) => {
  const child = await fork(['sh', '-c', 'exit 9'])
  const early = [child.wait(), child.wait()]
  const expected = { exitCode: 9, signal: null, status: 9 << 8 }
  t.deepEqual(await Promise.all(early), [expected, expected])
  t.deepEqual(await child.wait(), expected)
})

linuxOnly(LINUX.proc, test)('await using hangs up and waits', async (t) => {
  let pid = 0
  {
    await using child = await fork(['cat'])
    pid = child.pid
    t.is(procState(pid), 'S')
  }
  // Disposal waited for the exit, so the child has been reaped.
  t.is(procState(pid), undefined)
})

linuxOnly(LINUX.proc, test)('await using ends a child that ignores SIGHUP', async (t) => {
  let child: Awaited<ReturnType<typeof fork>> | undefined
  {
    await using c = await fork(['sh', '-c', "trap '' HUP; echo ready; exec sleep 30"])
    child = c
    await new OutputReader(c).until('ready\r\n')
  }
  t.deepEqual(child.exitStatus, { exitCode: null, signal: 'SIGKILL', status: 9 })
  t.is(procState(child.pid), undefined)
})

test('await using after the exit returns at once with the status kept', async (t) => {
  let child: Awaited<ReturnType<typeof fork>> | undefined
  {
    await using c = await fork(['sh', '-c', 'exit 4'])
    child = c
    await c.wait()
  }
  t.deepEqual(child.exitStatus, { exitCode: 4, signal: null, status: 4 << 8 })
})

linuxOnly(LINUX.proc, test)('a grandchild holding the terminal does not keep the output or wait() from ending', async (t) => {
  // The grandchild inherits SIGHUP ignored, so it survives the child's exit (and the hang-up)
  // and keeps the slave open.
  const child = await fork(['sh', '-c', 'trap "" HUP; sleep 30 & echo $!'])
  const reader = new OutputReader(child)
  const grandchild = Number((await reader.until(/^\d+\r\n/)).trim())
  try {
    t.is(await reader.ended, `${grandchild}\r\n`)
    // It really was still there, on the terminal, when the output ended.
    // (The master is closed once the output has ended, so the name is gone by now.)
    t.is(fs.readlinkSync(`/proc/${grandchild}/fd/1`).replace(/ \(deleted\)$/, ''), child.ptsName)
    t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
  } finally {
    killQuietly(grandchild)
  }
})

linuxOnly(LINUX.proc, test)('a grandchild holding the terminal does not keep wait() from resolving when nobody reads', async (t) => {
  const child = await fork(['sh', '-c', 'trap "" HUP; sleep 30 &'])
  const status = await child.wait()
  t.deepEqual(status, { exitCode: 0, signal: null, status: 0 })
  const sleepers = terminalHolders(child.ptsName)
  for (const pid of sleepers) killQuietly(pid)
  t.is(sleepers.length, 1)
})

linuxOnly(LINUX.proc, test)('grandchildren printing without end do not keep the output or wait() from ending', async (t) => {
  t.timeout(8000, 'hang guard: the output never ended')
  const child = await fork(['sh', '-c', 'trap "" HUP; for i in 1 2 3 4; do yes & echo $!; done'])
  const ptsName = child.ptsName
  const grandchildren: number[] = []
  t.teardown(() => {
    for (const pid of grandchildren) killQuietly(pid)
    for (const pid of terminalHolders(ptsName)) if (procStat(pid)?.[1] === '1') killQuietly(pid)
  })
  let text = ''
  const ended = new Promise<void>((resolve) => {
    child.on('data', (chunk: Buffer) => {
      if (grandchildren.length === 4) return
      text += chunk.toString()
      grandchildren.splice(0, 4, ...[...text.matchAll(/(\d+)\r\n/g)].map((m) => Number(m[1])).slice(0, 4))
    })
    child.on('end', resolve)
  })
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
  await ended
  t.is(grandchildren.length, 4)
})

test('unref() lets Node exit while the child sleeps', async (t) => {
  const run = await runNode('refs.js', ['unref'], { timeoutMs: 30000 })
  const pid = Number(run.stdout.trim())
  killQuietly(pid)
  t.deepEqual([run.code, run.signal, run.stderr], [0, null, ''])
  t.regex(run.stdout, /^\d+\n$/)
})

test('unref() lets Node exit while the child sleeps and its output is being read', async (t) => {
  const run = await runNode('refs.js', ['unref-reading'], { timeoutMs: 30000 })
  killQuietly(Number(run.stdout.trim()))
  t.deepEqual([run.code, run.signal, run.stderr], [0, null, ''])
  t.regex(run.stdout, /^\d+\n$/)
})

test('ref() after unref() keeps Node alive until the child exits', async (t) => {
  const run = await runNode('refs.js', ['ref'], { timeoutMs: 30000 })
  t.deepEqual([run.code, run.signal, run.stderr], [0, null, ''])
  t.is(run.stdout, 'exit 5\n')
})

test('nothing is read from the master before the readable side is consumed', async (t) => {
  const child = await fork(['sh', '-c', 'echo one; read x; echo two'])
  // Read the fd directly, as in Python, before the stream is touched.
  const buf = Buffer.alloc(64)
  let direct = ''
  while (!direct.endsWith('one\r\n')) direct += buf.toString('utf8', 0, fs.readSync(child.fd, buf))
  t.is(direct, 'one\r\n')
  child.write('x\n')
  t.is(await collectText(child), 'x\r\ntwo\r\n')
  t.is((await child.wait()).exitCode, 0)
})

function nonBlocking(fd: number): boolean {
  const flags = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]
  return (parseInt(flags, 8) & fs.constants.O_NONBLOCK) !== 0
}

linuxOnly(LINUX.proc, test)('fd stays blocking until the stream is first used; write() then makes it non-blocking', async (t) => {
  const child = await fork(['cat'])
  try {
    t.false(nonBlocking(child.fd))
    child.write('x')
    t.true(nonBlocking(child.fd))
  } finally {
    child.kill('SIGKILL')
    await child.wait()
  }
})

test('exit is emitted once', async (t) => {
  const child = await fork(['echo', 'x'])
  let count = 0
  child.on('exit', () => count++)
  await collectText(child)
  await child.wait()
  await new Promise((resolve) => setImmediate(resolve))
  t.is(count, 1)
})

test('a status that was gone (SIGCHLD ignored by native code, or waitpid(-1) elsewhere) decodes as unknown, not as a signal', (t) => {
  // Node resets SIGCHLD to its default at start-up, so only other native code can get here:
  // the reactor then sees the exit through the pidfd and waitpid says ECHILD, reported as -1.
  t.deepEqual(decodeStatus(-1), { exitCode: null, signal: null, status: -1 })
  t.deepEqual(decodeStatus(3 << 8), { exitCode: 3, signal: null, status: 3 << 8 })
  t.deepEqual(decodeStatus(9), { exitCode: null, signal: 'SIGKILL', status: 9 })
})

linuxOnly(LINUX.proc, test)('the reactor epoll fds closed behind its back: the process aborts with a message, it does not hang', async (t) => {
  // No core file from the abort.
  const wrapper = ['sh', '-c', 'ulimit -c 0 && exec "$@"', 'sh']
  const run = await runNode('close-epoll.js', [], { timeoutMs: 20000, wrapper })
  t.is(run.signal, 'SIGABRT', run.stderr)
  t.regex(run.stderr, /^napi-pty: epoll_wait failed: /m)
  t.is(run.stdout, 'closing 2\n')
})
