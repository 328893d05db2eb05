// Shared helpers for the ava suite. Not a test file.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import type { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'

import test, { type ExecutionContext } from 'ava'

/** A Python that starts fast (the pyenv shim on PATH is a bash script). */
export const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

/** Prints the child's open fds, sorted, space-separated. The directory listing's own fd is
 * the lowest free one, so a clean child prints exactly `0 1 2 3`. */
export const LIST_FDS = [
  PYTHON,
  '-I',
  '-S',
  '-c',
  'import os; print(" ".join(sorted(os.listdir("/proc/self/fd"), key=int)))',
]

export const FIXTURES = path.join(__dirname, 'fixtures')

/** Why a test can only run on Linux, by what it needs. */
export const LINUX = {
  proc: 'it inspects processes, fds or threads through /proc',
  strace: 'strace holds the calls it times',
  prlimit: "util-linux's prlimit sets the file size limit",
  setpriv: "util-linux's setpriv takes a capability away",
  devFull: 'it writes to /dev/full',
  utilLinuxScript: "it compares with util-linux's script and scriptreplay",
  tmux: 'it finds the shells inside tmux through /proc',
  stressWorkers: 'the stress workers measure fds, threads and children through /proc',
} as const

/**
 * `register` (`test` or `test.serial`) on Linux; elsewhere the test is registered skipped, with
 * `reason` (one of {@link LINUX}) in its title so that the skip says why.
 */
export function linuxOnly<T extends typeof test | typeof test.serial>(reason: string, register: T): T {
  if (process.platform === 'linux') return register
  const skipped = (title: string, ...rest: unknown[]) =>
    (register.skip as (title: string, ...rest: unknown[]) => void)(`${title} [skipped on ${process.platform}: ${reason}]`, ...rest)
  return skipped as unknown as T
}

/** Everything a stream gives until its end. */
export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

export async function collectText(stream: AsyncIterable<Buffer>): Promise<string> {
  return (await collect(stream)).toString()
}

/** Accumulates a stream's output (flowing mode) and lets a test wait for a piece of it. */
export class OutputReader {
  text = ''
  readonly ended: Promise<string>
  #done = false
  #waiters: Array<() => void> = []

  constructor(stream: Readable) {
    const decoder = new StringDecoder('utf8')
    stream.on('data', (chunk: Buffer) => {
      this.text += decoder.write(chunk)
      this.#wake()
    })
    this.ended = new Promise((resolve, reject) => {
      stream.once('end', () => {
        this.text += decoder.end()
        this.#done = true
        this.#wake()
        resolve(this.text)
      })
      stream.once('error', reject)
    })
    // Callers that only use until() must not get an unhandled rejection.
    this.ended.catch(() => {})
  }

  /** Resolves with the output so far once it contains `pattern`; rejects if the stream ends
   * first. */
  async until(pattern: string | RegExp): Promise<string> {
    const matches = () => (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text))
    while (!matches()) {
      if (this.#done) throw new Error(`output ended without ${String(pattern)}: ${JSON.stringify(this.text)}`)
      await new Promise<void>((resolve) => this.#waiters.push(resolve))
    }
    return this.text
  }

  #wake(): void {
    for (const resolve of this.#waiters.splice(0)) resolve()
  }
}

/** How many fds this process has open (the listing's own fd included, consistently). */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length
}

/** This process's open fds and what each refers to (`/dev/ptmx`, `pipe:[123]`…). */
export function fdTable(): Map<number, string> {
  const table = new Map<number, string>()
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      table.set(Number(name), fs.readlinkSync(`/proc/self/fd/${name}`))
    } catch {
      // The directory listing's own fd, already closed.
    }
  }
  return table
}

/** The fds open now that were not open (to the same thing) in `before`, as `fd -> target`
 * strings: an empty list means nothing was left behind. */
export function newFds(before: Map<number, string>): string[] {
  const out: string[] = []
  for (const [fd, target] of fdTable()) {
    // The test runner's TypeScript loader (tsx, also in every worker thread) reads its own
    // files lazily, and a worker terminated mid-read can leave one open: never napi-pty's.
    if (target.includes(`${path.sep}node_modules${path.sep}`)) continue
    if (before.get(fd) !== target) out.push(`${fd} -> ${target}`)
  }
  return out
}

/** How many threads this process has. */
export function threadCount(): number {
  return fs.readdirSync('/proc/self/task').length
}

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, session,
 * tty_nr, tpgid, ...]; undefined when the process is gone. */
export function procStat(pid: number): string[] | undefined {
  let text: string
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  return text.slice(text.lastIndexOf(')') + 2).trim().split(' ')
}

/** The process's state letter (R, S, Z…), or undefined when it no longer exists at all. */
export function procState(pid: number): string | undefined {
  return procStat(pid)?.[0]
}

/** The pids whose parent is this process, zombies included; but not the esbuild service
 * that tsx (the test loader) starts and stops as it pleases. */
export function childPids(): number[] {
  const out: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = procStat(Number(name))
    if (!stat || Number(stat[1]) !== process.pid) continue
    let exe = ''
    try {
      exe = fs.readlinkSync(`/proc/${name}/exe`)
    } catch {
      // A zombie has no exe: it counts.
    }
    if (path.basename(exe) !== 'esbuild') out.push(Number(name))
  }
  return out.sort((a, b) => a - b)
}

/** `pid state command` for each pid, to show in a failed assertion. */
export function describePids(pids: number[]): string[] {
  return pids.map((pid) => {
    let cmd = '?'
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
    } catch {
      // Gone meanwhile.
    }
    return `${pid} ${procState(pid) ?? 'gone'} ${cmd}`
  })
}

/** Whether the fd is close-on-exec, from /proc/self/fdinfo. */
export function isCloexec(fd: number): boolean {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
  const flags = /^flags:\s*([0-7]+)$/m.exec(info)
  if (!flags) throw new Error(`no flags in fdinfo of ${fd}`)
  return (parseInt(flags[1], 8) & 0o2000000) !== 0
}

/**
 * Waits for an external condition (a process the kernel has not yet removed, an fd another
 * thread has not yet closed): polls every few ms until it holds or the generous deadline
 * passes. Never throws; the caller asserts the exact state afterwards, so a timeout shows up
 * as a failed assertion with the real values.
 */
export async function waitFor(condition: () => boolean, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Now, in the clock ticks since boot (USER_HZ, 100 on Linux) that `/proc/<pid>/stat` gives
 * a process's start time in. */
export function bootTicks(): number {
  return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0].replace('.', ''))
}

/**
 * The pids of every process whose stdout is the terminal `ptsName` (also once its master is
 * gone and the kernel calls it `ptsName (deleted)`).
 *
 * A terminal's number is free again once nothing holds it, and tests running beside this one
 * open terminals all the time, so a name seen after a terminal was closed may be another's.
 * With `startedBy` (a `bootTicks()` taken while the terminal was still open) only processes
 * started by then count: while that terminal lived no other had its number, so they hold it.
 */
export function terminalHolders(ptsName: string, startedBy?: number): number[] {
  const out: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const target = fs.readlinkSync(`/proc/${name}/fd/1`)
      if (target !== ptsName && target !== `${ptsName} (deleted)`) continue
      const started = Number(procStat(Number(name))?.[19])
      if (startedBy === undefined || started <= startedBy) out.push(Number(name))
    } catch {
      // Gone, a zombie, or not ours to look at.
    }
  }
  return out
}

/** A process as `ps` shows it from outside, read the same way on Linux and macOS. */
export interface Outside {
  pid: number
  ppid: number
  pgid: number
  /** The state letter: `Z` for a zombie. */
  state: string
  /** When it started, to the second (`lstart`): with the pid, tells it from a later process
   * given the same pid. */
  start: string
  name: string
}

/** Runs `ps` with `args`; its lines (ps exits 1 when none of the pids given exists). */
function psLines(args: string[]): string[] {
  const r = spawnSync('ps', ['-ww', ...args], { encoding: 'utf8' })
  if (r.error) throw r.error
  return r.stdout.split('\n').filter((line) => line.trim() !== '')
}

/** Those of `pids` that exist (zombies included), by pid, as `ps` sees them. */
export function outside(pids: number[]): Map<number, Outside> {
  const out = new Map<number, Outside>()
  if (pids.length === 0) return out
  for (const line of psLines(['-o', 'pid=,ppid=,pgid=,stat=,lstart=,ucomm=', '-p', pids.join(',')])) {
    // lstart is five words ("Mon Dec  7 03:51:04 2026"); the name is the rest.
    const words = line.trim().split(/\s+/)
    const [pid, ppid, pgid] = words.slice(0, 3).map(Number)
    out.set(pid, { pid, ppid, pgid, state: words[3][0], start: words.slice(4, 9).join(' '), name: words.slice(9).join(' ') })
  }
  return out
}

/** The state letter and command line of every process (or of those of `pids` that exist),
 * by pid. */
export function commandLines(pids?: number[]): Map<number, { state: string; line: string }> {
  const out = new Map<number, { state: string; line: string }>()
  const which = pids === undefined ? ['-A'] : pids.length === 0 ? undefined : ['-p', pids.join(',')]
  if (!which) return out
  for (const text of psLines(['-o', 'pid=,stat=,args=', ...which])) {
    const match = /^\s*(\d+)\s+(\S+)\s?(.*)$/.exec(text)
    if (match) out.set(Number(match[1]), { state: match[2][0], line: match[3] })
  }
  return out
}

/** Each pid's session id, as `getsid(2)` gives it (`ps` has no column for it on macOS); -1 for
 * a pid that does not exist. */
export function sessionIds(pids: number[]): number[] {
  const code = 'import os, sys\nfor p in sys.argv[1:]:\n  try: print(os.getsid(int(p)))\n  except OSError: print(-1)'
  const r = spawnSync(PYTHON, ['-c', code, ...pids.map(String)], { encoding: 'utf8' })
  if (r.error) throw r.error
  return r.stdout.trim().split('\n').map(Number)
}

/** Sends SIGKILL if the process still exists; for cleaning up grandchildren. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

export interface NodeRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs a fixture script in a fresh Node process and collects what it prints. `timeoutMs` is a
 * hang guard only: past it the process is killed and the run reports SIGKILL.
 */
export function runNode(
  script: string,
  args: string[] = [],
  options: {
    timeoutMs?: number
    stdio?: Array<'pipe' | 'ignore' | 'inherit' | number>
    /** A command that runs node, e.g. `['setpriv', …]`. */
    wrapper?: string[]
    /** Options for node itself, e.g. `['--expose-gc']`. */
    nodeArgs?: string[]
  } = {},
): Promise<NodeRun> {
  const stdio = options.stdio ?? ['ignore', 'pipe', 'pipe']
  const node = [process.execPath, ...(options.nodeArgs ?? [])]
  const command = [...(options.wrapper ?? []), ...node, path.join(FIXTURES, script), ...args]
  const child = spawn(command[0], command.slice(1), { stdio })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const guard = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60000)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** A fresh temporary directory, resolved (no symlinks), removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-test-')))
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** The fields of a system error a test compares. */
export function sysFields(err: unknown): Record<string, unknown> {
  const e = err as NodeJS.ErrnoException
  return { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path }
}

/** Runs `act` and then checks that the process has exactly the fds and children it had. */
export async function leavesNothing<T>(t: ExecutionContext, act: () => Promise<T> | T): Promise<T> {
  const fds = fdTable()
  const children = childPids()
  const result = await act()
  const newChildren = () => describePids(childPids().filter((pid) => !children.includes(pid)))
  await waitFor(() => newFds(fds).length === 0 && newChildren().length === 0)
  t.deepEqual(newFds(fds), [], 'no fd is left behind')
  t.deepEqual(newChildren(), [], 'no child or zombie is left behind')
  return result
}
