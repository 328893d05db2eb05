// The functions of Python's pty module that start or open a terminal: openpty and fork, and
// the window-size helpers.

import { isMainThread } from 'node:worker_threads'

import * as native from './native'
import { abortError, callNative, codedError } from './errors'
import { Kind } from './events'
import { sink } from './registry'
import { PtyProcess } from './pty-process'
import type { ForkOptions, OpenPtyOptions, PtyPair, WindowSize } from './types'
import {
  checkAbortSignal,
  checkArgv,
  checkBoolean,
  checkEnv,
  checkFd,
  checkInteger,
  checkKeys,
  checkNotArgs,
  checkOptions,
  checkSize,
  checkString,
  MAX_ID,
} from './validate'

/** The options `fork` takes; anything else is a mistake worth an error. */
export const FORK_OPTIONS = ['cols', 'rows', 'cwd', 'env', 'term', 'uid', 'gid', 'echo', 'signal']

/**
 * Opens a new pseudo-terminal pair, as Python's `pty.openpty()`. Both fds are close-on-exec
 * (non-inheritable, as in Python since 3.4); the caller owns and closes them.
 */
export async function openpty(options?: OpenPtyOptions): Promise<PtyPair> {
  const opts = checkOptions(options, 'options')
  checkKeys(opts, ['cols', 'rows'], 'openpty')
  const size = checkSize(opts)
  return callNative(() => native.openpty(size.cols, size.rows))
}

/**
 * Starts `argv` on a new pseudo-terminal, as Python's `pty.fork()` followed by an exec in the
 * child. Resolves once the program is running; rejects with a {@link SystemError} naming the
 * step that failed (`execve`, `chdir`, `setuid`…) when it could not be started.
 *
 * @example
 * const child = await fork(['sh', '-c', 'echo hi'])
 * for await (const chunk of child) process.stdout.write(chunk)
 * console.log(await child.wait()) // { exitCode: 0, signal: null, status: 0 }
 */
export async function fork(argv: string | readonly string[], options?: ForkOptions): Promise<PtyProcess> {
  checkNotArgs(argv, options, 'fork')
  const args = checkArgv(argv)
  const opts = checkOptions(options, 'options')
  checkKeys(opts, FORK_OPTIONS, 'fork')
  const size = checkSize(opts)
  // Left out, the environment is read natively, which is much cheaper than walking
  // `process.env`; except in a worker, whose `process.env` is a copy of its own.
  const env = opts.env === undefined && isMainThread ? undefined : checkEnv(opts.env === undefined ? process.env : opts.env)
  const term = opts.term === undefined ? undefined : checkString(opts.term, 'term')
  const cwd = opts.cwd === undefined ? undefined : checkString(opts.cwd, 'cwd')
  const uid = opts.uid === undefined ? undefined : checkInteger(opts.uid, 'uid', 0, MAX_ID)
  const gid = opts.gid === undefined ? undefined : checkInteger(opts.gid, 'gid', 0, MAX_ID)
  const echo = opts.echo === undefined ? undefined : checkBoolean(opts.echo, 'echo')
  const signal = opts.signal === undefined ? undefined : checkAbortSignal(opts.signal)
  if (signal?.aborted) throw abortError(signal)
  const nativePty = callNative(() =>
    native.fork(sink(), { argv: args, env, term, cwd, uid, gid, cols: size.cols, rows: size.rows, echo }),
  )
  let child!: PtyProcess
  await new Promise<void>((resolve, reject) => {
    child = new PtyProcess(nativePty, size, { resolve, reject })
    if (signal) {
      // As `await using` at the end of its block: hang up, SIGKILL if that is ignored. Before
      // the program is running, fork() rejects; after, the stream ends and wait() resolves.
      const onAbort = (): void => {
        reject(abortError(signal))
        void child[Symbol.asyncDispose]()
      }
      signal.addEventListener('abort', onAbort, { once: true })
      child.once('exit', () => signal.removeEventListener('abort', onAbort))
    }
    // Usually the exec's outcome is known by now; else it comes as an event.
    const settled = nativePty.settled
    if (settled) child._event(settled.length ? Kind.SpawnFailed : Kind.Spawned, null, settled[0] ?? 0, settled[1] ?? 0)
  })
  return child
}

/** The window size of any terminal fd (`TIOCGWINSZ`). */
export function getWindowSize(fd: number): WindowSize {
  const checked = checkFd(fd)
  return callNative(() => native.getWindowSize(checked))
}

/** Sets the window size of any terminal fd (`TIOCSWINSZ`). */
export function setWindowSize(fd: number, size: WindowSize): void {
  const checked = checkFd(fd)
  const { cols, rows } = checkSize(checkOptions(size, 'size') as Record<string, unknown>)
  if (size.cols === undefined || size.rows === undefined) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', 'size must have cols and rows')
  }
  callNative(() => native.setWindowSize(checked, cols, rows))
}
