// Helpers for spawn.test.ts: fixture processes (spawn takes over its process's stdin and
// stdout, so most spawns run in a Node process of their own) and an outer pty to drive them.

import * as cp from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

import { fork, type ExitStatus, type PtyProcess } from '../index'

export const fixture = (name: string): string => path.join(__dirname, 'fixtures', name)

/** How long a helper process may run before it is killed as hung. A hang guard only. */
const HANG_GUARD_MS = 60_000

// The machine has two cores: at most this many helper processes at once, whatever ava runs.
const MAX_RUNNING = 3
let running = 0
const queue: Array<() => void> = []

export async function limited<T>(f: () => Promise<T>): Promise<T> {
  if (running >= MAX_RUNNING) await new Promise<void>((resolve) => queue.push(resolve))
  else running++
  try {
    return await f()
  } finally {
    const next = queue.shift()
    if (next) next()
    else running--
  }
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-spawn-'))
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** What a fixture said: its `REPORT {json}` line on stderr. */
export type Report = Record<string, unknown>

export interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
  report: Report | undefined
}

/** Parses the last `REPORT {json}` line of a fixture's stderr. */
export function parseReport(stderr: string): Report | undefined {
  const lines = stderr.split('\n').filter((line) => line.startsWith('REPORT '))
  const last = lines.at(-1)
  return last === undefined ? undefined : (JSON.parse(last.slice('REPORT '.length)) as Report)
}

/** Waits for a started process to end, collecting its stderr and (if piped, and no
 * `onStdout` takes it) its stdout. */
export function finished(child: cp.ChildProcess, onStdout?: (chunk: Buffer) => void, guardMs = HANG_GUARD_MS): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    let err = ''
    child.stdout?.on('data', onStdout ?? ((chunk: Buffer) => out.push(chunk)))
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
    const guard = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`hung: ${child.spawnargs.join(' ')}\nstderr: ${err}`))
    }, guardMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, report: parseReport(err) })
    })
  })
}

/** Calls `then` once the text read from `stream` matches `pattern`. */
export function onceText(stream: NodeJS.ReadableStream | null, pattern: RegExp, then: (match: RegExpExecArray) => void): void {
  let text = ''
  let fired = false
  stream?.on('data', (chunk: Buffer | string) => {
    text += chunk.toString()
    const match = fired ? null : pattern.exec(text)
    if (match) {
      fired = true
      then(match)
    }
  })
}

/** Runs `node fixtures/<name> ...args`, feeding `input` (then EOF) or the given stdio. */
export function runFixture(
  name: string,
  args: string[],
  options: { input?: string; stdio?: cp.StdioOptions } = {},
): Promise<Finished> {
  return limited(async () => {
    const stdio = options.stdio ?? ['pipe', 'pipe', 'pipe']
    const child = cp.spawn(process.execPath, [fixture(name), ...args], { stdio })
    const done = finished(child)
    if (options.input !== undefined) child.stdin?.end(options.input)
    return done
  })
}

/** The fixture `spawn.js`: runs spawn(argv, options) with the options described by `plan`. */
export function runSpawn(plan: Record<string, unknown>, argv: string[], options: { input?: string; stdio?: cp.StdioOptions } = {}): Promise<Finished> {
  return runFixture('spawn.js', [JSON.stringify(plan), ...argv], options)
}

/**
 * Runs `script` with `sh -c`, in which `"$NODE" "$FIXTURE" "$PLAN" "$@"` runs the fixture
 * `spawn.js` with `plan` and spawns `argv`: a shell pipeline gives it real pipes (Node's own
 * child_process connects a child with socket pairs).
 */
export function startPipeline(script: string, plan: Record<string, unknown>, argv: string[], stdin: cp.IOType = 'pipe'): cp.ChildProcess {
  return cp.spawn('sh', ['-c', script, 'sh', ...argv], {
    stdio: [stdin, 'pipe', 'pipe'],
    env: { ...process.env, NODE: process.execPath, FIXTURE: fixture('spawn.js'), PLAN: JSON.stringify(plan) },
  })
}

export function runPipeline(script: string, plan: Record<string, unknown>, argv: string[], stdin: cp.IOType = 'pipe'): Promise<Finished> {
  return limited(() => finished(startPipeline(script, plan, argv, stdin)))
}

/**
 * A program running on a pty of ours: the terminal that the spawn under test borrows. Its
 * output is collected; `until` waits for what it prints.
 */
export class Outer {
  text = ''
  readonly #waiters = new Set<() => void>()
  #ended = false
  #error: Error | undefined

  private constructor(readonly pty: PtyProcess) {
    pty.setEncoding('latin1')
    // A string: the encoding is set.
    pty.on('data', (chunk: Buffer | string) => {
      this.text += chunk
      for (const wake of this.#waiters) wake()
    })
    pty.on('end', () => {
      this.#ended = true
      for (const wake of this.#waiters) wake()
    })
    pty.on('error', (err: Error) => {
      this.#error = err
      for (const wake of this.#waiters) wake()
    })
  }

  static async start(argv: string[], options: { cols?: number; rows?: number; env?: Record<string, string | undefined> } = {}): Promise<Outer> {
    return new Outer(await fork(argv, { cols: 80, rows: 24, ...options }))
  }

  /** Resolves with the first match of `pattern` in the output (from `from`), once it shows. */
  until(pattern: RegExp, from = 0): Promise<RegExpExecArray> {
    return this.#when(() => pattern.exec(this.text.slice(from)) ?? undefined, `${pattern}`)
  }

  write(data: string): void {
    this.pty.write(data)
  }

  /** The exit status, once all output has been read. */
  async done(): Promise<ExitStatus> {
    await this.#when(() => (this.#ended ? true : undefined), 'the end of the output')
    return this.pty.wait()
  }

  #when<T>(test: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (result: T | undefined, err?: Error): void => {
        this.#waiters.delete(check)
        clearTimeout(guard)
        if (err) reject(err)
        else resolve(result as T)
      }
      const check = (): void => {
        const result = test()
        if (this.#error) finish(undefined, new Error(`${this.#error.message}, waiting for ${what}:\n${JSON.stringify(this.text)}`))
        else if (result !== undefined) finish(result)
        else if (this.#ended) finish(undefined, new Error(`output ended without ${what}:\n${JSON.stringify(this.text)}`))
      }
      const guard = setTimeout(() => {
        this.pty.kill('SIGKILL')
        finish(undefined, new Error(`no ${what} in time:\n${JSON.stringify(this.text)}`))
      }, HANG_GUARD_MS)
      this.#waiters.add(check)
      check()
    })
  }
}

/**
 * Runs `node fixtures/terminal.js <mode> ...args` on an outer pty, wrapped in a shell that
 * prints `stty -g` before it starts and after it ends, and the status it ended with.
 */
export function startTerminalFixture(mode: string, args: string[] = [], options: { cols?: number; rows?: number } = {}): Promise<Outer> {
  const script = 'echo "outer-before=$(stty -g)"; "$0" "$@"; echo "status=$?"; echo "outer-after=$(stty -g)"'
  return Outer.start(['sh', '-c', script, process.execPath, fixture('terminal.js'), mode, ...args], options)
}

/** What a terminal fixture run showed, once it is over. */
export interface TerminalRun {
  outer: Outer
  exit: ExitStatus
  before: string
  after: string
  status: number
  /** `inside-…=` values printed by the fixture itself. */
  inside: Record<string, string>
}

export async function terminalResult(outer: Outer): Promise<TerminalRun> {
  const exit = await outer.done()
  const field = (name: string): string => {
    const match = new RegExp(`${name}=([^\\r\\n]*)`).exec(outer.text)
    if (!match) throw new Error(`no ${name}= in ${JSON.stringify(outer.text)}`)
    return match[1]
  }
  const inside: Record<string, string> = {}
  for (const match of outer.text.matchAll(/inside-([a-z-]+)=([^\r\n]*)/g)) inside[match[1]] = match[2]
  return { outer, exit, before: field('outer-before'), after: field('outer-after'), status: Number(field('status')), inside }
}

/** Makes a FIFO at `where`. */
export function mkfifo(where: string): string {
  cp.execFileSync('mkfifo', [where])
  return where
}

/**
 * Resolves with what is written to the FIFO at `where` until no process has it open for
 * writing any more. A process that holds it open shows its end this way, even when it is not
 * ours. Call it once a writer has it open: with none, it ends at once.
 */
export function fifoClosed(where: string): Promise<string> {
  const fd = fs.openSync(where, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  const socket = new net.Socket({ fd, readable: true, writable: false })
  return new Promise((resolve, reject) => {
    let text = ''
    const guard = setTimeout(() => {
      socket.destroy()
      reject(new Error(`${where} still open; got ${JSON.stringify(text)}`))
    }, HANG_GUARD_MS)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      clearTimeout(guard)
      socket.destroy()
      resolve(text)
    })
  })
}

/** Whether a process exists (a zombie counts). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}
