// napi-pty inside worker_threads that go away mid-session.

import * as path from 'node:path'
import { Worker } from 'node:worker_threads'

import test, { type ExecutionContext } from 'ava'

import { fork } from '../index'
import { childPids, collectText, describePids, fdTable, FIXTURES, LINUX, linuxOnly, newFds, procState, threadCount, waitFor } from './helpers'

test.before(async () => {
  // The reactor thread and its fds are process-wide and stay: start them before any baseline.
  await collectText(await fork(['true']))
})

async function endMidSession(t: ExecutionContext, mode: 'terminate' | 'exit', flood: boolean): Promise<void> {
  const fds = fdTable()
  const threads = threadCount()
  const worker = new Worker(path.join(FIXTURES, 'pty-worker.js'), { workerData: { mode, flood } })
  // A failed assertion throws: end the worker anyway, or its children would outlive this test
  // and be counted against the next ones.
  t.teardown(() => worker.terminate())
  const exited = new Promise((resolve) => worker.once('exit', resolve))
  const message = await new Promise<{ pids?: number[]; error?: string }>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  t.is(message.error, undefined)
  const pids = message.pids!
  t.is(pids.length, flood ? 4 : 3)
  if (mode === 'terminate') {
    // Alive: running, sleeping, or for a moment in an uninterruptible wait (a `cat` echoing into
    // a flooded terminal can be caught waiting for the line discipline's lock, state D).
    t.deepEqual(pids.map(procState).map((s) => s === 'S' || s === 'R' || s === 'D'), pids.map(() => true))
    await worker.terminate()
  }
  t.is(await exited, mode === 'terminate' ? 1 : 0)
  // Every child is gone: killed and reaped, no zombie.
  await waitFor(() => pids.every((pid) => procState(pid) === undefined))
  t.deepEqual(describePids(pids.filter((pid) => procState(pid) !== undefined)), [])
  t.deepEqual(describePids(childPids()), [])
  // Nothing of the worker's is left: fds and threads back to the baseline.
  await waitFor(() => newFds(fds).length === 0 && threadCount() === threads)
  t.deepEqual(newFds(fds), [])
  t.is(threadCount(), threads)
  // And napi-pty goes on working here.
  const child = await fork(['echo', 'still here'])
  t.is(await collectText(child), 'still here\r\n')
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
}

linuxOnly(LINUX.proc, test.serial)('a worker terminated mid-session leaves no process, zombie, fd or thread', (t) =>
  endMidSession(t, 'terminate', false),
)

linuxOnly(LINUX.proc, test.serial)('a worker terminated while output is flowing, three times', async (t) => {
  for (let i = 0; i < 3; i++) await endMidSession(t, 'terminate', true)
})

linuxOnly(LINUX.proc, test.serial)('a worker that exits mid-session leaves no process, zombie, fd or thread', (t) =>
  endMidSession(t, 'exit', true),
)

linuxOnly(LINUX.proc, test.serial)('a worker terminated while its forks are on their way leaves no process, zombie or fd', async (t) => {
  for (let i = 0; i < 3; i++) {
    const fds = fdTable()
    const worker = new Worker(path.join(FIXTURES, 'pty-worker.js'), { workerData: { mode: 'spawning' } })
    t.teardown(() => worker.terminate())
    await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await worker.terminate()
    await waitFor(() => childPids().length === 0 && newFds(fds).length === 0)
    t.deepEqual(describePids(childPids()), [])
    t.deepEqual(newFds(fds), [])
  }
})

linuxOnly(LINUX.proc, test.serial)('several workers use napi-pty at once; one terminated mid-session does not disturb the others', async (t) => {
  const fds = fdTable()
  const threads = threadCount()
  const start = (workerData: object) => new Worker(path.join(FIXTURES, 'pty-worker.js'), { workerData })
  const busy = [start({ mode: 'work', count: 40 }), start({ mode: 'work', count: 40 })]
  const results = busy.map(
    (worker) =>
      new Promise<{ done?: number; error?: string }>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      }),
  )
  const doomed = start({ mode: 'terminate', flood: true })
  for (const worker of [...busy, doomed]) t.teardown(() => worker.terminate())
  const message = await new Promise<{ pids?: number[]; error?: string }>((resolve, reject) => {
    doomed.once('message', resolve)
    doomed.once('error', reject)
  })
  t.is(message.error, undefined)
  await doomed.terminate()
  // The main thread keeps working meanwhile.
  for (let i = 0; i < 10; i++) {
    const child = await fork(['echo', `main ${i}`])
    t.is(await collectText(child), `main ${i}\r\n`)
  }
  t.deepEqual(await Promise.all(results), [{ done: 40 }, { done: 40 }])
  await Promise.all(busy.map((worker) => worker.terminate()))
  const pids = message.pids!
  await waitFor(() => pids.every((pid) => procState(pid) === undefined) && childPids().length === 0)
  t.deepEqual(describePids(childPids()), [])
  await waitFor(() => newFds(fds).length === 0 && threadCount() === threads)
  t.deepEqual(newFds(fds), [])
  t.is(threadCount(), threads)
})
