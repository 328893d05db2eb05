// PtyProcess: what fork() returns. The stream itself is PtyCore (lib/pty-core.ts); what is
// built on top of it is here: typed events, what runs in the terminal and ending all of it
// (lib/session.ts), and the test-driving methods (lib/drive.ts).

import { constants } from 'node:os'

import { childScreen, expectChild, pressKeys, type ExpectOptions, type ExpectPattern, type ExpectResult } from './drive'
import { DISPOSE_GRACE_MS } from './events'
import type * as native from './native'
import { PtyCore } from './pty-core'
import type { Screen, ScreenOptions } from './screen'
import { checkTerminateOptions, Session, type ForegroundProcess, type SessionProcess, type TerminateOptions } from './session'
import type { ExitStatus, PtyProcessEventName as Name, PtyProcessListener as Listener, WindowSize } from './types'

/** Listeners typed by event (the map is `PtyProcessEvents`); chunks are Buffers. */
export interface PtyProcess {
  on<E extends Name>(event: E, listener: Listener<E>): this
  once<E extends Name>(event: E, listener: Listener<E>): this
  off<E extends Name>(event: E, listener: Listener<E>): this
  addListener<E extends Name>(event: E, listener: Listener<E>): this
  removeListener<E extends Name>(event: E, listener: Listener<E>): this
  prependListener<E extends Name>(event: E, listener: Listener<E>): this
  prependOnceListener<E extends Name>(event: E, listener: Listener<E>): this
  emit<E extends Name>(event: E, ...args: Parameters<Listener<E>>): boolean
  read(size?: number): Buffer | null
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<Buffer>
}

const SIGHUP = constants.signals.SIGHUP

/**
 * A child running on a pseudo-terminal. A `Duplex`: reading gives the child's output, writing
 * feeds its input, both with backpressure.
 */
export class PtyProcess extends PtyCore {
  readonly #native: native.NativePty
  /** The child's session, once the program runs. */
  #session: Session | undefined
  #terminating: Promise<ExitStatus> | undefined

  /** @internal */
  constructor(nativePty: native.NativePty, size: WindowSize, spawned: { resolve: () => void; reject: (err: Error) => void }) {
    super(nativePty, size, spawned)
    this.#native = nativePty
  }

  /** @internal Taken as the program starts, while the child's pid is surely its own. */
  protected override _spawned(): void {
    this.#session = new Session(this.#native)
  }

  /** The terminal's foreground process (what the user runs now); `null` after the exit. */
  foreground(): ForegroundProcess | null {
    return this._exited || !this.#session ? null : this.#session.foreground()
  }

  /** Every process still in the terminal's session, and the child's descendants that left it. */
  processes(): SessionProcess[] {
    return this.#session ? this.#session.processes() : []
  }

  /** Hangs up, signals every process of the terminal, SIGKILLs what is left after the grace
   * time, and resolves with the child's exit status once none of them is left. */
  terminate(options?: TerminateOptions): Promise<ExitStatus> {
    let opts: { signal: number; graceMs: number }
    try {
      opts = checkTerminateOptions(options)
    } catch (err) {
      return Promise.reject(err)
    }
    const session = this.#session
    this.#terminating ??= session
      ? session.end(opts.signal, opts.graceMs, () => this.close()).then(() => this.wait())
      : this.#endChild(opts.signal, opts.graceMs)
    return this.#terminating
  }

  /** Before the program runs (an AbortSignal fired while fork() waits for the exec), the child
   * has started nothing yet and may not lead its session yet: it alone is ended. */
  async #endChild(signal: number, graceMs: number): Promise<ExitStatus> {
    this.close()
    if (signal !== SIGHUP) this.kill(signal)
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs)
    try {
      return await this.wait()
    } finally {
      clearTimeout(timer)
    }
  }

  /** `terminate()` with a grace of {@link DISPOSE_GRACE_MS}: nothing of the terminal is left. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate({ graceMs: DISPOSE_GRACE_MS })
  }

  /** Waits for `pattern` in the output, as pexpect does (see the README's Testing section). */
  expect(pattern: ExpectPattern | ExpectPattern[], options?: ExpectOptions): Promise<ExpectResult> {
    return expectChild(this, pattern, options)
  }

  /** The child's Screen: a headless terminal fed with its output from now on. */
  screen(options?: Omit<ScreenOptions, 'cols' | 'rows'>): Screen {
    return childScreen(this, options)
  }

  /** Types keys (`'Enter'`, `'Up'`, `'C-c'`, `'q'`…); resolves once they are written. */
  press(...keys: string[]): Promise<void> {
    return pressKeys(this, keys)
  }
}
