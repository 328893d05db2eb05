// What runs in the terminal: foreground(), processes(), terminate(), and disposing.

// Processes are looked at from outside with `ps` (and `getsid` through Python), not through
// /proc, so that the file runs the same on Linux and macOS.

import { spawn as spawnChild, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { fork, spawn, type PtyProcess } from '../index'
import { commandLines, FIXTURES, LINUX, linuxOnly, OutputReader, outside, PYTHON, sessionIds, tempDir, waitFor } from './helpers'

/** `setsid PROGRAM ARGS…`: macOS has no setsid(1). */
const SETSID = `${PYTHON} -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])'`

/** Background jobs of every kind: two plain, one that ignores SIGHUP and SIGTERM, one that
 * left the session. */
const JOBS = `sleep 100 & sleep 100 & (trap "" HUP TERM; sleep 100) & ${SETSID} sleep 100 & wait`

/** The name the system gives the process `pid` (`sh` may run as another shell: on macOS,
 * /bin/sh execs the shell it stands for). */
function nameOf(pid: number): string | undefined {
  return outside([pid]).get(pid)?.name
}

/** /tmp as the system resolves it (on macOS a link to /private/tmp). */
const TMP = fs.realpathSync('/tmp')

/** A process as seen from outside: its pid and start time. */
interface Identity {
  pid: number
  start: string
}

function identities(pids: number[]): Identity[] {
  return [...outside(pids).values()].map(({ pid, start }) => ({ pid, start }))
}

function identity(pid: number): Identity | undefined {
  return identities([pid])[0]
}

/** Those of `who` that are still the same process and not zombies (a zombie that is not ours
 * counts as gone). */
function living(who: Identity[]): Identity[] {
  const now = outside(who.map((w) => w.pid))
  return who.filter((w) => {
    const p = now.get(w.pid)
    return p !== undefined && p.start === w.start && p.state !== 'Z'
  })
}

function alive(who: Identity): boolean {
  return living([who]).length === 1
}

function sleepsOf(child: PtyProcess): Identity[] {
  return identities(
    child
      .processes()
      .filter((p) => p.name === 'sleep')
      .map((p) => p.pid),
  )
}

/** Whether each of `pids` is a process named `name` now. */
function named(pids: number[], name: string): boolean {
  const now = outside(pids)
  return pids.every((pid) => now.get(pid)?.name === name)
}

/** A child of this process outside any terminal, with its exit noted. */
function bystander(argv: string[]): { child: ChildProcess; who: Identity; exited: () => boolean } {
  const child = spawnChild(argv[0], argv.slice(1), { stdio: 'ignore' })
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const who = identity(child.pid as number)
  if (!who) throw new Error(`${argv[0]} did not start`)
  return { child, who, exited: () => exited }
}

/** The terminal with all four jobs started, and their identities. */
async function withJobs(t: ExecutionContext): Promise<{ child: PtyProcess; sleeps: Identity[] }> {
  const child = await fork(['sh', '-c', JOBS])
  child.resume()
  // Nothing tells when a background job has exec'd: look until all four are sleeps.
  await waitFor(() => child.processes().filter((p) => p.name === 'sleep').length === 4 && sleepsOf(child).length === 4)
  const sleeps = sleepsOf(child)
  t.is(sleeps.length, 4, JSON.stringify(child.processes()))
  return { child, sleeps }
}

test('foreground(): the idle shell, a command it runs (argv, cwd), the shell again, null after exit', async (t) => {
  const child = await fork(['sh', '-i'], { env: { PATH: process.env.PATH, PS1: 'PROMPT> ' } })
  const out = new OutputReader(child)
  await out.until('PROMPT> ')
  const sh = nameOf(child.pid)
  t.truthy(sh)
  t.deepEqual(child.foreground(), { pid: child.pid, pgid: child.pid, name: sh, argv: ['sh', '-i'], cwd: process.cwd() })

  child.write('cd /tmp && sleep 30\n')
  await waitFor(() => child.foreground()?.name === 'sleep')
  const fg = child.foreground()
  t.truthy(fg)
  t.not(fg?.pid, child.pid)
  t.deepEqual(fg, { pid: fg?.pid, pgid: fg?.pid, name: 'sleep', argv: ['sleep', '30'], cwd: TMP })

  // Interrupted: the shell takes the terminal back before it runs the next line.
  child.write('\x03')
  child.write('echo back-$((20+3))\n')
  await out.until('back-23')
  t.deepEqual(child.foreground(), { pid: child.pid, pgid: child.pid, name: sh, argv: ['sh', '-i'], cwd: TMP })

  child.write('exit\n')
  await child.wait()
  t.is(child.foreground(), null)
})

test("foreground() inside `sh -c 'cd /; exec sleep 30'`: sleep, in /; null after terminate()", async (t) => {
  const child = await fork(['sh', '-c', 'cd /; exec sleep 30'])
  await waitFor(() => child.foreground()?.name === 'sleep')
  t.deepEqual(child.foreground(), { pid: child.pid, pgid: child.pid, name: 'sleep', argv: ['sleep', '30'], cwd: '/' })
  t.deepEqual(await child.terminate(), { exitCode: null, signal: 'SIGHUP', status: 1 })
  t.is(child.foreground(), null)
})

test('processes(): the session and the job that left it, each with its ids; empty once all is gone', async (t) => {
  const { child, sleeps } = await withJobs(t)
  const list = child.processes()
  const shell = list.find((p) => p.pid === child.pid)
  t.deepEqual(shell, { pid: child.pid, ppid: process.pid, pgid: child.pid, sid: child.pid, name: nameOf(child.pid), argv: ['sh', '-c', JOBS] })
  const seen = outside(list.map((p) => p.pid))
  const sids = sessionIds(list.map((p) => p.pid))
  list.forEach((p, i) => {
    // As the kernel says from outside: parent, group, session.
    const o = seen.get(p.pid)
    t.deepEqual([p.ppid, p.pgid, p.sid], [o?.ppid, o?.pgid, sids[i]])
  })
  const escaped = list.filter((p) => p.sid !== child.pid)
  t.is(escaped.length, 1)
  t.deepEqual(escaped[0], { pid: escaped[0].pid, ppid: child.pid, pgid: escaped[0].pid, sid: escaped[0].pid, name: 'sleep', argv: ['sleep', '100'] })
  t.is(sleeps.length, 4)
  await child.terminate({ graceMs: 0 })
  t.deepEqual(child.processes(), [])
})

/** Runs the four jobs, terminates them next to two bystanders, and checks the outcome. */
async function terminateNextToBystanders(t: ExecutionContext, graceMs: number | undefined): Promise<void> {
  const sleeper = bystander(['sleep', '100'])
  const node = bystander([process.execPath, '-e', 'setInterval(() => {}, 1000)'])
  try {
    const { child, sleeps } = await withJobs(t)
    const status = await child.terminate(graceMs === undefined ? undefined : { graceMs })
    // Checked as the promise resolves: it must not resolve before they are gone.
    t.deepEqual(describe(living(sleeps).map((who) => who.pid)), [])
    t.deepEqual(status, { exitCode: null, signal: 'SIGHUP', status: 1 })
    t.deepEqual(child.processes(), [])
    t.true(alive(sleeper.who) && !sleeper.exited(), 'the unrelated sleep survives')
    t.true(alive(node.who) && !node.exited(), 'the unrelated node child survives')
  } finally {
    sleeper.child.kill('SIGKILL')
    node.child.kill('SIGKILL')
  }
}

/** `pid state command line` for each pid, to show in a failed assertion. */
function describe(pids: number[]): string[] {
  const now = commandLines(pids)
  return pids.map((pid) => `${pid} ${now.get(pid)?.state ?? 'gone'} ${now.get(pid)?.line ?? ''}`)
}

test('terminate(): every job is gone when it resolves, also the one that ignores SIGHUP and the one that left; bystanders live', async (t) => {
  await terminateNextToBystanders(t, undefined)
})

test('terminate({ graceMs: 0 }) leaves none either', async (t) => {
  await terminateNextToBystanders(t, 0)
})

test('terminate() next to unrelated children whose pids interleave with the terminal ones (200 runs, 8 at a time)', async (t) => {
  const runs = 200
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < runs) {
      next++
      await terminateNextToBystanders(t, next % 2 === 0 ? 0 : 20)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
})

/** The processes, zombies left out, whose command line holds `tag`: told from outside,
 * whatever session they are in. */
function tagged(tag: string): number[] {
  return [...commandLines()].filter(([, p]) => p.line.includes(tag) && p.state !== 'Z').map(([pid]) => pid)
}

test('terminate() as soon as the jobs are started, before they have run (50 runs, 5 at a time)', async (t) => {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < 50) {
      // A number no other process on the machine has in its command line: every process of
      // the run has it, the shell and its forks in their script, the sleeps as their argument.
      const tag = String(1_000_000_000 + process.pid * 100 + next++)
      const script = JOBS.replace('wait', 'echo ready; wait').replaceAll('sleep 100', `sleep ${tag}`)
      const child = await fork(['sh', '-c', script])
      await new OutputReader(child).until('ready')
      await child.terminate({ graceMs: 0 })
      t.deepEqual(describe(tagged(tag)), [])
    }
  }
  await Promise.all(Array.from({ length: 5 }, worker))
})

test('terminate() after the child has exited still ends what it left behind, and resolves with its status', async (t) => {
  const { dir, remove } = tempDir()
  try {
    const file = path.join(dir, 'pid')
    // The job ignores SIGHUP, which the kernel sends the foreground group as the shell exits.
    const child = await fork(['sh', '-c', 'trap "" HUP; sleep 100 & echo $! > "$1"; exit 3', 'sh', file])
    t.deepEqual(await child.wait(), { exitCode: 3, signal: null, status: 3 << 8 })
    const pid = Number(fs.readFileSync(file, 'utf8'))
    await waitFor(() => named([pid], 'sleep'))
    const orphan = identity(pid) as Identity
    t.true(alive(orphan))
    t.deepEqual(
      child.processes().map((p) => p.pid),
      [pid],
    )
    t.deepEqual(await child.terminate(), { exitCode: 3, signal: null, status: 3 << 8 })
    t.false(alive(orphan))
  } finally {
    remove()
  }
})

// Root can signal anything, so the process that may not signal is root without CAP_KILL, and
// the one it may not signal is nobody's.
;(process.getuid?.() === 0 ? linuxOnly(LINUX.setpriv, test) : test.skip)(
  "another user's process that cannot be signalled: listed, and terminate() rejects with EPERM instead of waiting",
  async (t) => {
    if (!fs.existsSync('/usr/bin/setpriv')) {
      t.fail('setpriv(1) (util-linux) is missing: cannot take CAP_KILL away from a root process here')
      return
    }
    const nobody = 65534
    const script = path.join(FIXTURES, 'foreign.js')
    const wrapper = ['--bounding-set', '-kill', '--inh-caps', '-kill']
    const holder = spawnChild('/usr/bin/setpriv', [...wrapper, process.execPath, script, String(nobody), String(nobody)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    holder.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    holder.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const closed = new Promise<number | null>((resolve) => holder.once('close', resolve))
    const lines = (): string[] => stdout.split('\n').slice(0, -1)
    // Its pid first, so that the child is ended here even if what follows fails.
    await Promise.race([waitFor(() => lines().length >= 1, 30000), closed])
    const pid: number = JSON.parse(lines()[0] ?? 'null')
    if (!Number.isInteger(pid)) {
      t.fail(`no pid from the fixture: ${stderr}`)
      return
    }
    await waitFor(() => named([pid], 'sleep'))
    const sleeper = identity(pid)
    t.teardown(() => {
      if (sleeper && alive(sleeper)) process.kill(pid, 'SIGKILL')
      holder.kill('SIGKILL')
    })
    await Promise.race([waitFor(() => lines().length >= 2, 30000), closed])
    if (lines().length !== 2) {
      t.fail(`no report from the fixture (terminate() did not settle?): ${stderr}`)
      return
    }
    const report = JSON.parse(lines()[1])
    t.like(report.foreground, { pid, pgid: pid, name: 'sleep', argv: ['sleep', '100'], cwd: '/' })
    t.deepEqual(
      report.processes.map((p: { pid: number; sid: number; name: string }) => [p.pid, p.sid, p.name]),
      [[pid, pid, 'sleep']],
    )
    const syscall = process.env.NAPI_PTY_PORTABLE === '1' ? 'kill' : 'pidfd_send_signal'
    t.deepEqual(report.error, { name: 'Error', code: 'EPERM', errno: -1, syscall })
    // Neither the hang-up nor the signals ended it (it ignores the first, the others were
    // refused): it is still there, nobody's, now that terminate() has given up on it.
    t.truthy(sleeper && alive(sleeper))
    t.is(fs.statSync(`/proc/${pid}`).uid, nobody)
    // Ended from here (root may), it is reaped by the process that forked it.
    process.kill(pid, 'SIGKILL')
    t.is(await closed, 0, stderr)
    t.deepEqual(JSON.parse(lines()[2]), { exitCode: null, signal: 'SIGKILL', status: 9 })
    t.false(alive(sleeper as Identity))
  },
)

test('kill() stays one signal to the child: its jobs outlive it until terminate()', async (t) => {
  const child = await fork(['sh', '-c', 'trap "" HUP; sleep 100 & sleep 100 & wait'])
  child.resume()
  await waitFor(() => sleepsOf(child).length === 2)
  const sleeps = sleepsOf(child)
  t.is(sleeps.length, 2)
  child.kill('SIGKILL')
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGKILL', status: 9 })
  t.deepEqual(living(sleeps), sleeps)
  t.is(child.foreground(), null)
  t.deepEqual(
    child.processes().map((p) => p.pid),
    sleeps.map((who) => who.pid).sort((a, b) => a - b),
  )
  await child.terminate()
  t.deepEqual(living(sleeps), [])
})

test('concurrent terminate() calls share one outcome', async (t) => {
  const { child, sleeps } = await withJobs(t)
  const [a, b] = await Promise.all([child.terminate({ graceMs: 0 }), child.terminate()])
  t.deepEqual(a, b)
  t.deepEqual(living(sleeps), [])
})

test('await using leaves nothing of the terminal behind', async (t) => {
  let sleeps: Identity[] = []
  {
    await using child = await fork(['sh', '-c', JOBS])
    child.resume()
    await waitFor(() => sleepsOf(child).length === 4)
    sleeps = sleepsOf(child)
  }
  t.is(sleeps.length, 4)
  t.deepEqual(living(sleeps), [])
})

test("an AbortSignal given to spawn ends the child's jobs too before spawn rejects", async (t) => {
  const { dir, remove } = tempDir()
  const file = path.join(dir, 'out')
  const stdout = fs.openSync(file, 'w')
  const stdin = fs.openSync('/dev/null', 'r')
  try {
    const controller = new AbortController()
    const run = spawn(['sh', '-c', 'sleep 100 & echo $!; (trap "" HUP TERM; exec sleep 100) & echo $!; wait'], {
      stdin,
      stdout,
      signal: controller.signal,
    })
    const rejected = t.throwsAsync(run, { name: 'AbortError' })
    await waitFor(() => fs.readFileSync(file, 'utf8').split('\n').length > 2)
    const pids = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/).map(Number)
    t.is(pids.length, 2)
    await waitFor(() => named(pids, 'sleep'))
    const sleeps = pids.map((pid) => identity(pid) as Identity)
    controller.abort()
    await rejected
    t.deepEqual(living(sleeps), [])
  } finally {
    fs.closeSync(stdout)
    fs.closeSync(stdin)
    remove()
  }
})

test('terminate() rejects bad options with typed errors, and does nothing then', async (t) => {
  // It ignores the hang-up: what ends it is the signal asked for.
  const child = await fork(['sh', '-c', 'trap "" HUP; exec sleep 30'])
  await waitFor(() => child.foreground()?.name === 'sleep')
  await t.throwsAsync(child.terminate({ graceMs: -1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(child.terminate({ graceMs: 1.5 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(child.terminate({ graceMs: '5' as unknown as number }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(child.terminate({ signal: 'SIGNOPE' as NodeJS.Signals }), { instanceOf: TypeError, code: 'ERR_UNKNOWN_SIGNAL' })
  await t.throwsAsync(child.terminate('now' as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.is(child.exitStatus, undefined)
  t.is(child.foreground()?.name, 'sleep')
  t.deepEqual(await child.terminate({ signal: 'SIGTERM' }), { exitCode: null, signal: 'SIGTERM', status: 15 })
})
