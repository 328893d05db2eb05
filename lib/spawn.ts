// spawn: Python's pty.spawn, with the copy loop in the native core.

import * as fs from 'node:fs'

import * as native from './native'
import { abortError, codedError, fromNative, systemError } from './errors'
import { LANE_INPUT } from './events'
import { FORK_OPTIONS, fork } from './fork'
import { sink } from './registry'
import type { PtyProcess } from './pty-process'
import type { ExitStatus, ForkOptions, WindowSize } from './types'
import { checkAbortSignal, checkFd, checkKeys, checkNotArgs, checkOptions, checkSize, describe } from './validate'

/**
 * A `spawn` hook: gets each chunk and returns what to pass on — bytes or a string, `undefined`
 * to pass the chunk on unchanged, or `null`/empty for end-of-file in that direction. May return
 * a Promise; chunks reach it one at a time, in order.
 */
export type SpawnHook = (
  data: Buffer,
) => Uint8Array | string | null | undefined | void | PromiseLike<Uint8Array | string | null | undefined | void>

export interface SpawnOptions extends ForkOptions {
  /** Sees each chunk of the child's output before it is written to `stdout`. */
  masterRead?: SpawnHook
  /** Sees each chunk of `stdin` before it is written to the child. */
  stdinRead?: SpawnHook
  /** The fd to read the child's input from. Default 0. */
  stdin?: number
  /** The fd to write the child's output to. Default 1. */
  stdout?: number
  /** Aborting ends the child and what it started, as `terminate()` does (`SIGKILL` after
   * `DISPOSE_GRACE_MS` for what is left), then rejects with an `AbortError` once the terminal is
   * restored. */
  signal?: AbortSignal
}

const SPAWN_OPTIONS = [...FORK_OPTIONS, 'masterRead', 'stdinRead', 'stdin', 'stdout']

function checkHook(value: unknown, name: string): SpawnHook | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'function') {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a function, got ${describe(value)}`)
  }
  return value as SpawnHook
}

function terminalSize(fd: number): WindowSize | undefined {
  if (!native.isTerminal(fd)) return undefined
  try {
    const size = native.getWindowSize(fd)
    return size.cols > 0 && size.rows > 0 ? size : undefined
  } catch {
    return undefined
  }
}

/** Turns a hook's answer into the bytes to pass on, or `null` for end-of-file. */
function hookResult(result: unknown, data: Buffer): Uint8Array | null {
  if (result === undefined) return data
  if (result === null) return null
  const bytes = typeof result === 'string' ? Buffer.from(result) : result
  if (!(bytes instanceof Uint8Array)) {
    throw codedError(TypeError, 'ERR_INVALID_RETURN_VALUE', `a spawn hook must return a Uint8Array, a string, null or undefined, got ${describe(result)}`)
  }
  return bytes.length === 0 ? null : bytes
}

/** A flowing `process.stdin`, found without creating it (creating it changes fd 0's flags). */
function flowingStdin(): { pause(): unknown; resume(): unknown } | undefined {
  const getHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles
  for (const handle of getHandles?.call(process) ?? []) {
    const stream = handle as { fd?: number; _handle?: { fd?: number }; readableFlowing?: boolean | null; pause?: () => unknown; resume?: () => unknown }
    const fd = stream.fd ?? stream._handle?.fd
    if (fd === 0 && stream.readableFlowing === true && stream.pause && stream.resume) {
      return stream as { pause(): unknown; resume(): unknown }
    }
  }
  return undefined
}

/** Signals whose arrival must not leave the terminal raw: forwarded (not SIGINT) and re-raised. */
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT']

/** What the process-wide handlers need of each running spawn. */
interface Session {
  restoreTerminal(): void
  followResize(): void
  forward(sig: NodeJS.Signals): void
  interrupt(sig: NodeJS.Signals): void
}

/** Running spawns. One set of process listeners serves them all, so that a signal is judged
 * against the application's own listeners, not against those of other spawns. */
const sessions = new Set<Session>()

const onProcessExit = (): void => {
  for (const session of sessions) session.restoreTerminal()
}
const onFatalException = (): void => {
  // Only when the exception will end the process; with a handler, the spawns go on.
  if (process.listenerCount('uncaughtException') === 0) onProcessExit()
}
const onResize = (): void => {
  for (const session of sessions) session.followResize()
}
const onSignal = (sig: NodeJS.Signals): void => {
  for (const session of sessions) session.forward(sig)
  if (process.listenerCount(sig) > 1) return // the application handles it
  for (const session of [...sessions]) session.interrupt(sig)
  // With our listener gone Node restores the default action: let it happen.
  process.kill(process.pid, sig)
}

function enter(session: Session): void {
  if (sessions.size === 0) {
    process.on('exit', onProcessExit)
    process.on('uncaughtExceptionMonitor', onFatalException)
    process.on('SIGWINCH', onResize)
    for (const sig of FATAL_SIGNALS) process.on(sig, onSignal)
  }
  sessions.add(session)
}

function leave(session: Session): void {
  if (!sessions.delete(session) || sessions.size > 0) return
  process.removeListener('exit', onProcessExit)
  process.removeListener('uncaughtExceptionMonitor', onFatalException)
  process.removeListener('SIGWINCH', onResize)
  for (const sig of FATAL_SIGNALS) process.removeListener(sig, onSignal)
}

/**
 * Runs `argv` on a new pseudo-terminal connected to this process's stdin and stdout, as
 * Python's `pty.spawn`, and resolves with its exit status once it has exited and all of its
 * output has been written. The copy loop runs natively; hooks, when given, see each chunk.
 *
 * @example
 * const { exitCode } = await spawn(process.env.SHELL ?? 'sh')
 */
export function spawn(argv: string | readonly string[], options?: SpawnOptions): Promise<ExitStatus>
export function spawn(argv: string | readonly string[], masterRead?: SpawnHook, stdinRead?: SpawnHook): Promise<ExitStatus>
export async function spawn(
  argv: string | readonly string[],
  optionsOrMasterRead?: SpawnOptions | SpawnHook,
  stdinRead?: SpawnHook,
): Promise<ExitStatus> {
  checkNotArgs(argv, optionsOrMasterRead, 'spawn')
  const opts: Record<string, unknown> =
    typeof optionsOrMasterRead === 'function' || (optionsOrMasterRead === undefined && stdinRead !== undefined)
      ? { masterRead: optionsOrMasterRead, stdinRead }
      : checkOptions(optionsOrMasterRead, 'options')
  checkKeys(opts, SPAWN_OPTIONS, 'spawn')
  const masterRead = checkHook(opts.masterRead, 'masterRead')
  const stdinHook = checkHook(opts.stdinRead, 'stdinRead')
  const stdinFd = opts.stdin === undefined ? 0 : checkFd(opts.stdin)
  const stdoutFd = opts.stdout === undefined ? 1 : checkFd(opts.stdout)
  const signal = opts.signal === undefined ? undefined : checkAbortSignal(opts.signal)
  // stdout must be open (as Python's spawn would fail writing to it); a closed stdin is simply
  // an immediate end-of-file.
  fs.fstatSync(stdoutFd)
  const size = terminalSize(stdoutFd) ?? terminalSize(stdinFd) ?? checkSize(opts)
  if (signal?.aborted) throw abortError(signal)
  // fork gets its own options only; the signal is watched here, where the terminal is restored.
  const forkOptions: Record<string, unknown> = {}
  for (const key of Object.keys(opts)) if (key !== 'signal' && FORK_OPTIONS.includes(key)) forkOptions[key] = opts[key]
  const child = await fork(argv, { ...(forkOptions as ForkOptions), cols: size.cols, rows: size.rows })
  return relay(child, { stdinFd, stdoutFd, masterRead, stdinRead: stdinHook, signal })
}

interface RelayPlan {
  stdinFd: number
  stdoutFd: number
  masterRead: SpawnHook | undefined
  stdinRead: SpawnHook | undefined
  signal: AbortSignal | undefined
}

/** Connects a forked child to this process's terminal until it is done. */
function relay(child: PtyProcess, plan: RelayPlan): Promise<ExitStatus> {
  return new Promise<ExitStatus>((resolve, reject) => {
    let rawMode: native.RawMode | undefined
    let finished = false
    let outputDone = false
    let status: ExitStatus | undefined
    const pausedStdin = plan.stdinFd === 0 ? flowingStdin() : undefined

    const restoreTerminal = (): void => {
      const mode = rawMode
      rawMode = undefined
      try {
        mode?.restore()
      } catch {
        // The terminal is gone (hung up): there is nothing left to restore.
      }
    }
    const onAbort = (): void => finish(abortError(plan.signal as AbortSignal), true)
    const session: Session = {
      restoreTerminal,
      followResize() {
        const size = terminalSize(plan.stdoutFd) ?? terminalSize(plan.stdinFd)
        if (size && !status && child.exitStatus === undefined) {
          try {
            child.resize(size.cols, size.rows)
          } catch {
            // The child exited in between.
          }
        }
      },
      forward(sig) {
        if (sig !== 'SIGINT') child.kill(sig)
      },
      interrupt(sig) {
        finish(codedError(Error, 'ERR_PTY_SIGNAL', `spawn interrupted by ${sig}`))
      },
    }

    function finish(err?: unknown, terminate = false): void {
      if (finished) return
      finished = true
      restoreTerminal()
      leave(session)
      plan.signal?.removeEventListener('abort', onAbort)
      pausedStdin?.resume()
      child._relay.stop()
      if (terminate) {
        // Aborting ends all the child started, as disposing does, and then rejects.
        const done = (): void => reject(err)
        child.terminate().then(done, done)
        return
      }
      child.close()
      if (err !== undefined) reject(err)
      else resolve(status as ExitStatus)
    }

    const runHook = async (hook: SpawnHook, lane: number, data: Buffer): Promise<void> => {
      try {
        const answer = hookResult(await hook(data), data)
        if (!finished) child._relay.answer(lane, answer)
      } catch (err) {
        // Whatever the hook threw, as it threw it.
        finish(err)
      }
    }

    try {
      if (native.isTerminal(plan.stdinFd)) rawMode = new native.RawMode(sink(), plan.stdinFd)
      enter(session)
      plan.signal?.addEventListener('abort', onAbort, { once: true })
      // An abort that came while the child was being started has no event left to fire.
      if (plan.signal?.aborted) return onAbort()
      pausedStdin?.pause()
      child._relay.start(plan.stdinFd, plan.stdoutFd, plan.masterRead !== undefined, plan.stdinRead !== undefined, {
        chunk(lane, data) {
          const hook = lane === LANE_INPUT ? plan.stdinRead : plan.masterRead
          if (hook && !finished) void runHook(hook, lane, data)
        },
        done() {
          outputDone = true
          if (status) finish()
        },
        failed(errno) {
          // Like a hook that throws: the terminal is restored, the child hung up.
          finish(systemError(errno, 'write'))
        },
      })
    } catch (err) {
      finish(fromNative(err))
      return
    }
    child.wait().then((exit) => {
      status = exit
      if (outputDone) finish()
    }, finish)
  })
}

