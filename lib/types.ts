// The public types shared by every function.

import type { Readable } from 'node:stream'

/** How a child ended. */
export interface ExitStatus {
  /** The exit code when the child exited normally, else `null`. */
  exitCode: number | null
  /** The name of the signal that killed the child, else `null`. */
  signal: NodeJS.Signals | null
  /** The raw `waitpid` status, as Python's `pty.spawn` returns it; -1 (with `exitCode` and
   * `signal` both `null`) when the status was gone: native code made the process ignore
   * SIGCHLD, so the kernel reaps children itself, or took it with `waitpid(-1)`. */
  status: number
}

/** A terminal's size in character cells. */
export interface WindowSize {
  cols: number
  rows: number
}

export interface OpenPtyOptions {
  /** Columns, 1 to 65535. Default 80. */
  cols?: number
  /** Rows, 1 to 65535. Default 24. */
  rows?: number
}

/** Both ends of a pseudo-terminal, as `pty.openpty()` returns them, plus the slave's path. */
export interface PtyPair {
  /** The master fd (close-on-exec). The caller owns it. */
  master: number
  /** The slave fd (close-on-exec). The caller owns it. */
  slave: number
  /** The slave's path, e.g. `/dev/pts/3`. */
  path: string
}

export interface ForkOptions extends OpenPtyOptions {
  /** The child's working directory. Default: this process's. */
  cwd?: string
  /** The child's whole environment. Default `process.env`. Entries whose value is `undefined` are left out. */
  env?: Readonly<Record<string, string | undefined>>
  /** Sets `TERM`. Default: `env.TERM`, else `xterm-256color`. */
  term?: string
  /** The child's user id (needs the privilege to take it). */
  uid?: number
  /** The child's group id; it is also its only supplementary group. */
  gid?: number
  /** Whether the terminal echoes input back as output. Default `true`, as a new terminal does;
   * `false` suits input that is piped rather than typed (util-linux `script` does so). */
  echo?: boolean
  /** Aborting ends the child and what it started as `await using` does (`terminate()`, with
   * `SIGKILL` after `DISPOSE_GRACE_MS` for what is left). Aborted before `fork` resolves, `fork` rejects
   * with an `AbortError` (already aborted: nothing is started); after, the output ends and
   * `wait()` resolves with the exit status. No `'error'` is emitted: the abort is yours. */
  signal?: AbortSignal
}

/** An `Error` from a system call, shaped as Node's own (`fs`, `child_process`). */
export interface SystemError extends Error {
  /** E.g. `ENOENT`. */
  code: string
  /** The negated errno, as Node reports it (e.g. -2). */
  errno: number
  /** The call that failed, e.g. `execve`, `chdir`, `setuid`. */
  syscall: string
  /** The path involved, if any. */
  path?: string
}

/** The listener of an event that has no arguments. Typed so that a listener expecting one
 * (`resolve` of a Promise, say) may still be given, but not one that needs a value. */
export type NoArguments = (nothing?: undefined) => void

/** The events a `PtyProcess` emits, each with its listener's arguments. */
export interface PtyProcessEvents {
  /** A chunk of the child's output. (After `setEncoding()`, a string: declare the listener's
   * argument as `Buffer | string` then.) */
  data: (chunk: Buffer) => void
  /** The output has ended: read to its end after the child closed the terminal, or hung up. */
  end: NoArguments
  /** The child has ended; after `'end'` when the output is read. */
  exit: (exitCode: number | null, signal: NodeJS.Signals | null) => void
  /** Both sides are finished and the master is closed. */
  close: NoArguments
  error: (err: Error) => void
  /** The input has ended (`end()`, or by itself once the child has exited and the output ended). */
  finish: NoArguments
  drain: NoArguments
  pause: NoArguments
  resume: NoArguments
  readable: NoArguments
  pipe: (src: Readable) => void
  unpipe: (src: Readable) => void
  /** The terminal was resized with `resize()` (a Screen follows it). */
  resize: (cols: number, rows: number) => void
}

/** An event name of a `PtyProcess`: one of its own, or any other (untyped) one. */
export type PtyProcessEventName = keyof PtyProcessEvents | (string & {}) | symbol

/** The listener for event `E`. */
export type PtyProcessListener<E> = E extends keyof PtyProcessEvents ? PtyProcessEvents[E] : (...args: any[]) => void

