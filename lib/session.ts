// What runs in a terminal, and ending all of it: the facade of the native session layer
// (`src/session/`). PtyProcess delegates `foreground()`, `processes()` and `terminate()` here.

import * as native from './native'
import { callNative, systemError } from './errors'
import { checkInteger, checkOptions, signalNumber } from './validate'

/** The leader of the terminal's foreground process group: what the user is running now. */
export interface ForegroundProcess {
  pid: number
  pgid: number
  /** The system's name for the process (on Linux its first 15 bytes). */
  name: string
  /** `null` when the system will not tell (another user's process). */
  argv: string[] | null
  /** `null` when the system will not tell (another user's process). */
  cwd: string | null
}

/** One process of the terminal: in its session, or a descendant of the child that left it. */
export interface SessionProcess {
  pid: number
  ppid: number
  pgid: number
  sid: number
  name: string
  /** `null` when the system will not tell. */
  argv: string[] | null
}

export interface TerminateOptions {
  /** Sent to every process of the terminal after the hang-up. Default `'SIGHUP'`. */
  signal?: NodeJS.Signals | number
  /** How long they have before `SIGKILL`. Default 1000. */
  graceMs?: number
}

/** The largest grace time, as for a timer. */
const MAX_GRACE_MS = 0x7fffffff

export function checkTerminateOptions(options: unknown): { signal: number; graceMs: number } {
  const opts = checkOptions(options, 'options')
  return {
    signal: signalNumber(opts.signal ?? 'SIGHUP'),
    graceMs: opts.graceMs === undefined ? 1000 : checkInteger(opts.graceMs, 'graceMs', 0, MAX_GRACE_MS),
  }
}

type NativeSession = ReturnType<native.NativePty['session']>

/** The processes of one terminal. Made with its PtyProcess, while the child's pid is surely
 * its own. */
export class Session {
  readonly #native: NativeSession

  constructor(pty: native.NativePty) {
    this.#native = pty.session()
  }

  foreground(): ForegroundProcess | null {
    const fg = this.#native.foreground()
    // The binding leaves out what it does not know; the API says `null`.
    return fg && { pid: fg.pid, pgid: fg.pgid, name: fg.name, argv: fg.argv ?? null, cwd: fg.cwd ?? null }
  }

  processes(): SessionProcess[] {
    return callNative(() => this.#native.processes()).map((p) => ({
      pid: p.pid,
      ppid: p.ppid,
      pgid: p.pgid,
      sid: p.sid,
      name: p.name,
      argv: p.argv ?? null,
    }))
  }

  /** Takes note of the terminal's processes, calls `hangUp`, signals every process of the
   * terminal, `SIGKILL`s what is left after `graceMs`, and resolves once none is left. */
  end(signal: number, graceMs: number, hangUp: () => void): Promise<void> {
    const session = this.#native
    return new Promise((resolve, reject) => {
      observeThen(session, (err) => {
        if (err) return reject(err)
        hangUp()
        callNative(() =>
          session.terminate(signal, graceMs, (errno: number) => {
            if (errno === 0) resolve()
            else reject(systemError(errno, session.signalSyscall))
          }),
        )
      })
    })
  }
}

type Observer = { session: NativeSession; then: (err?: unknown) => void }
let observers: Observer[] | undefined

/**
 * Has `session` take note of its processes before its terminal is hung up: what a shell's
 * children are is known only while the shell lives, and the hang-up kills it. The reading of
 * the process table must come after the call (a terminal's jobs may have been started just
 * before it), and costs tens of milliseconds with thousands of processes: one reading, on the
 * next tick, serves every terminal terminated until then.
 */
function observeThen(session: NativeSession, then: (err?: unknown) => void): void {
  if (!observers) {
    observers = []
    process.nextTick(observeAll)
  }
  observers.push({ session, then })
}

function observeAll(): void {
  const batch = observers ?? []
  observers = undefined
  let table: InstanceType<typeof native.ProcessTable>
  try {
    table = callNative(() => native.ProcessTable.read())
  } catch (err) {
    for (const { then } of batch) then(err)
    return
  }
  for (const { session, then } of batch) {
    session.observe(table)
    then()
  }
}
