// Many children, many times, and child_process beside napi-pty. Serial: each test counts fds
// or processes of this whole process.

import { spawn, spawnSync } from 'node:child_process'

import test from 'ava'

import { fork, type PtyProcess } from '../index'
import { childPids, collect, collectText, describePids, fdTable, LINUX, linuxOnly, newFds, procState, waitFor } from './helpers'

test.before(async () => {
  // Start the reactor and the event sink: their fds belong to every baseline.
  await collectText(await fork(['true']))
})

test.serial('every byte arrives at exit: 500 children print 100 KB and exit at once', async (t) => {
  const size = 100000
  const runs = 500
  const batch = 4
  const failures: string[] = []
  for (let i = 0; i < runs; i += batch) {
    await Promise.all(
      Array.from({ length: batch }, async (_, j) => {
        const child = await fork(['head', '-c', String(size), '/dev/zero'])
        const output = await collect(child)
        const status = await child.wait()
        const zeros = output.every((b) => b === 0)
        if (output.length !== size || !zeros || status.status !== 0) {
          failures.push(`run ${i + j}: ${output.length} bytes, all zero: ${zeros}, status ${status.status}`)
        }
      }),
    )
  }
  t.deepEqual(failures, [])
})

test.serial('output left unread until after the exit all arrives, 200 times', async (t) => {
  // 4000 bytes fit in the kernel's buffers, so the child can exit before anyone reads.
  const size = 4000
  const failures: string[] = []
  for (let i = 0; i < 200; i += 8) {
    await Promise.all(
      Array.from({ length: 8 }, async (_, j) => {
        const child = await fork(['head', '-c', String(size), '/dev/zero'])
        const status = await child.wait()
        const output = await collect(child)
        if (output.length !== size || status.status !== 0) {
          failures.push(`run ${i + j}: ${output.length} bytes, status ${status.status}`)
        }
      }),
    )
  }
  t.deepEqual(failures, [])
})

test.serial('kill() racing with the exit, 200 times: either outcome, never an error', async (t) => {
  const outcomes = new Set<string>()
  for (let i = 0; i < 200; i += 8) {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const child = await fork(['true'])
        const sent = child.kill('SIGKILL')
        const status = await child.wait()
        outcomes.add(`${status.exitCode}/${status.signal}/${status.status}`)
        if (!sent) outcomes.add('not sent')
      }),
    )
  }
  const allowed = new Set(['0/null/0', 'null/SIGKILL/9', 'not sent'])
  t.deepEqual([...outcomes].filter((o) => !allowed.has(o)), [])
})

linuxOnly(LINUX.proc, test.serial)('200 forks at once: every output and exit is right, and no fd is left', async (t) => {
  const before = fdTable()
  const n = 200
  const children = await Promise.all(
    Array.from({ length: n }, (_, i) => fork(['sh', '-c', 'echo "child $1"; exit $(($1 % 256))', 'sh', String(i)])),
  )
  const results = await Promise.all(
    children.map(async (child) => ({ output: await collectText(child), status: await child.wait() })),
  )
  t.deepEqual(
    results,
    children.map((_, i) => ({
      output: `child ${i}\r\n`,
      status: { exitCode: i % 256, signal: null, status: (i % 256) << 8 },
    })),
  )
  t.is(new Set(children.map((c) => c.pid)).size, n)
  t.is(new Set(children.map((c) => c.ptsName)).size, n)
  await waitFor(() => newFds(before).length === 0 && childPids().length === 0)
  t.deepEqual(newFds(before), [])
  t.deepEqual(describePids(childPids()), [])
})

linuxOnly(LINUX.proc, test.serial)('200 forks at once, never read nor waited for: all reaped, no fd left', async (t) => {
  const before = fdTable()
  const children = await Promise.all(Array.from({ length: 200 }, () => fork(['true'])))
  const pids = children.map((c) => c.pid)
  await waitFor(() => pids.every((pid) => procState(pid) === undefined))
  t.deepEqual(pids.filter((pid) => procState(pid) !== undefined), [])
  // Their masters stay open (unread output may still be wanted) until each is closed.
  for (const child of children) child.close()
  await waitFor(() => newFds(before).length === 0)
  t.deepEqual(newFds(before), [])
})

/** A child_process child that exits with `code` once it reads a line. */
function heldChild(code: number) {
  const cp = spawn('sh', ['-c', `read line; exit ${code}`], { stdio: ['pipe', 'ignore', 'ignore'] })
  const exit = new Promise<[number | null, string | null]>((resolve) => cp.on('exit', (c, s) => resolve([c, s])))
  return { cp, exit }
}

linuxOnly(LINUX.proc, test.serial)('child_process.spawn beside napi-pty: every child_process child reports its exit', async (t) => {
  for (let round = 0; round < 5; round++) {
    // child_process children that wait, while napi-pty children come and go.
    const held = Array.from({ length: 10 }, (_, i) => heldChild(10 + i))
    const quick = Array.from({ length: 10 }, (_, i) => {
      const cp = spawn('sh', ['-c', `exit ${30 + i}`], { stdio: 'ignore' })
      return new Promise<[number | null, string | null]>((resolve) => cp.on('exit', (c, s) => resolve([c, s])))
    })
    const ptys = await Promise.all(Array.from({ length: 20 }, (_, i) => fork(['sh', '-c', `exit ${i}`])))
    t.deepEqual(
      (await Promise.all(ptys.map((p) => p.wait()))).map((s) => s.exitCode),
      ptys.map((_, i) => i),
    )
    t.deepEqual(await Promise.all(quick), quick.map((_, i) => [30 + i, null]))
    t.is(spawnSync('sh', ['-c', 'exit 3']).status, 3)
    // napi-pty has reaped its own children and none of these.
    t.deepEqual(held.map(({ cp }) => procState(cp.pid!)), held.map(() => 'S'))
    // Now both kinds exit at the same moment.
    const waiting: PtyProcess[] = await Promise.all(
      Array.from({ length: 10 }, (_, i) => fork(['sh', '-c', `read line; exit ${50 + i}`])),
    )
    for (const { cp } of held) cp.stdin.end('go\n')
    for (const p of waiting) p.write('go\n')
    t.deepEqual(await Promise.all(held.map((h) => h.exit)), held.map((_, i) => [10 + i, null]))
    t.deepEqual(
      (await Promise.all(waiting.map((p) => p.wait()))).map((s) => s.exitCode),
      waiting.map((_, i) => 50 + i),
    )
  }
})

test.serial('child_process children killed by a signal are reported beside napi-pty', async (t) => {
  const pty = await fork(['sleep', '30'])
  const cp = spawn('sleep', ['30'], { stdio: 'ignore' })
  const cpExit = new Promise((resolve) => cp.on('exit', (c, s) => resolve([c, s])))
  cp.kill('SIGTERM')
  pty.kill('SIGKILL')
  t.deepEqual(await cpExit, [null, 'SIGTERM'])
  t.deepEqual(await pty.wait(), { exitCode: null, signal: 'SIGKILL', status: 9 })
})
