// Helpers for the `napi-pty script` / `napi-pty replay` tests: run the command (and util-linux's
// tools) as child processes in a temporary directory, and take typescripts apart.

import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import type { ExecutionContext } from 'ava'

import { fork } from '../index'

export const BIN = path.join(__dirname, '..', 'dist', 'cli', 'napi-pty.js')

/** Hang guard only: a run still going after this long is killed (and its test fails). */
const HANG_GUARD_MS = 150_000

/** The same environment for our recorder and util-linux's: a plain sh, a known TERM. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SHELL: '/bin/sh', TERM: 'xterm', ...extra }
  for (const name of ['ENV', 'PS1', 'COLUMNS', 'LINES', 'TMUX', 'TMUX_PANE', 'NO_COLOR', 'FORCE_COLOR']) {
    if (!(name in extra)) delete env[name]
  }
  return env
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
}

export interface RunOptions {
  cwd: string
  /** Bytes to pipe to stdin; without it, stdin is /dev/null. */
  input?: string
  env?: NodeJS.ProcessEnv
}

/** Runs a program to its end and collects its output. */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: HANG_GUARD_MS,
      killSignal: 'SIGKILL',
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
    if (options.input !== undefined) child.stdin?.end(options.input)
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }),
    )
  })
}

/** Runs `napi-pty ARGS…` with node. */
export function napiPty(args: readonly string[], options: RunOptions): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], options)
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const STAMP = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}`
export const HEADER_RE = new RegExp(String.raw`^Script started on ${STAMP} \[(.*)\]$`)
export const FOOTER_RE = new RegExp(String.raw`^\nScript done on ${STAMP} \[COMMAND_EXIT_CODE="(\d+)"\]\n$`)
const FOOTER_START = Buffer.from('\nScript done on ')

export interface Typescript {
  /** The first line, without its newline. */
  header: string
  /** Everything the child wrote. */
  body: Buffer
  /** From the newline before `Script done on` to the end. */
  footer: string
}

/** Splits one recorded session into header line, body and footer. */
export function splitTypescript(file: Buffer): Typescript {
  const headerEnd = file.indexOf(0x0a)
  if (headerEnd < 0) throw new Error(`no header line in ${JSON.stringify(file.toString())}`)
  const footerStart = file.lastIndexOf(FOOTER_START)
  if (footerStart < headerEnd) throw new Error(`no footer in ${JSON.stringify(file.toString())}`)
  return {
    header: file.subarray(0, headerEnd).toString(),
    body: file.subarray(headerEnd + 1, footerStart),
    footer: file.subarray(footerStart).toString(),
  }
}

/** The `"<seconds> <bytes>"` lines of a classic timing file, checked for their form. */
export function timingEntries(text: string): Array<{ delay: number; bytes: number }> {
  const lines = text.split('\n')
  if (lines.pop() !== '') throw new Error('timing file does not end with a newline')
  return lines.map((line) => {
    const match = /^(\d+\.\d+) (\d+)$/.exec(line)
    if (!match) throw new Error(`bad timing line ${JSON.stringify(line)}`)
    return { delay: Number(match[1]), bytes: Number(match[2]) }
  })
}

/** `seq 1 N` as seen through a terminal (onlcr turns \n into \r\n). */
export function seqOutput(n: number): string {
  let out = ''
  for (let i = 1; i <= n; i++) out += `${i}\r\n`
  return out
}

/** Resolves once `check` returns a value other than undefined; rejects after `deadlineMs`. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 20_000): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    // Polling an external program's state: a short pause between looks, not a synchronisation.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * A tmux server of its own for a test in `dir`, killed (and its socket removed) when the test
 * ends: `tmux(...)` runs a command on it with a clean environment, `screen()` captures the pane
 * of the session named `rec` the caller creates, and `waitForScreen` polls that until it
 * matches, saying what the screen was when it never did.
 */
export function tmuxServer(t: ExecutionContext, dir: string) {
  const socket = `napi-pty-test-${process.pid}-${Math.random().toString(36).slice(2)}`
  const env = cleanEnv()
  const tmux = async (...args: string[]): Promise<string> => {
    const result = await run('tmux', ['-L', socket, '-f', '/dev/null', ...args], { cwd: dir, env })
    if (result.code !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr.toString()}`)
    return result.stdout.toString()
  }
  t.teardown(async () => {
    const socketPath = (await tmux('display-message', '-p', '#{socket_path}').catch(() => '')).trim()
    await tmux('kill-server').catch(() => undefined)
    if (socketPath !== '') fs.rmSync(socketPath, { force: true }) // tmux 3.3 leaves it behind
  })
  const screen = (): Promise<string> => tmux('capture-pane', '-p', '-t', 'rec')
  const waitForScreen = (pattern: RegExp): Promise<string> =>
    pollUntil(`${pattern} on the tmux screen`, async () => {
      const text = await screen()
      return pattern.test(text) ? text : undefined
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}; the screen:\n${await screen()}`)
    })
  return { socket, env, tmux, screen, waitForScreen }
}

/**
 * Records, as `format` into `dir`/rec.cast, an 80x24 session whose shell says `ready` and waits
 * (interruptibly) for its own SIGWINCH, then prints `stty size`; the terminal is resized to
 * 120x40 once `ready` is seen. Gives the exit code, what the terminal showed and the cast's lines.
 */
export async function recordResize(dir: string, format: string): Promise<{ exitCode: number | null; seen: string; lines: string[] }> {
  const command = `trap 'stty size; kill $!; exit 0' WINCH; echo ready; sleep 60 & wait`
  const recorder = await fork([process.execPath, BIN, 'script', '-q', '--format', format, '-c', command, 'rec.cast'], {
    cwd: dir,
    cols: 80,
    rows: 24,
    env: cleanEnv(),
  })
  let seen = ''
  let resized = false
  for await (const chunk of recorder) {
    seen += String(chunk)
    if (!resized && seen.includes('ready')) {
      resized = true
      recorder.resize(120, 40)
    }
  }
  const { exitCode } = await recorder.wait()
  return { exitCode, seen, lines: fs.readFileSync(path.join(dir, 'rec.cast'), 'utf8').trimEnd().split('\n') }
}
