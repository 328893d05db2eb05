// PtyProcess: a child on a pseudo-terminal, as a Duplex stream.

import { Duplex } from 'node:stream'

import type * as native from './native'
import { callNative, stateError, systemError } from './errors'
import { DISPOSE_GRACE_MS, Kind, STEP_SYSCALLS, type RelayListener } from './events'
import { active, byId, forget, releaseLoop, retainLoop } from './registry'
import { checkTerminateOptions, Session, type ForegroundProcess, type SessionProcess, type TerminateOptions } from './session'
import type { ExitStatus, WindowSize } from './types'
import { checkInteger, decodeStatus, MAX_CELLS, signalNumber } from './validate'

/**
 * A child running on a pseudo-terminal. A `Duplex`: reading gives the child's output, writing
 * feeds its input, both with backpressure.
 */
export class PtyProcess extends Duplex {
  readonly #native: native.NativePty
  readonly #id: number
  #cols: number
  #rows: number
  #spawn: { resolve: () => void; reject: (err: Error) => void } | undefined
  #exit: ExitStatus | undefined
  #exitDelivered = false
  #exitWaiters: Array<(status: ExitStatus) => void> = []
  #consumed = false
  /** The reactor has been asked for output and not told to pause since. */
  #pulling = false
  #eof = false
  #ended = false
  /** The user hung up (`close()`, `destroy()`). */
  #closed = false
  /** The master has been closed, by the user or because it was of no more use. */
  #released = false
  /** Destroyed after the output ended: release the master once the child has exited. */
  #releaseAtExit = false
  #referenced = true
  #holdingLoop = false
  #writeCallback: ((err?: Error | null) => void) | undefined
  #relay: RelayListener | undefined
  #relayDone = false
  readonly #session: Session
  #terminating: Promise<ExitStatus> | undefined

  /** @internal */
  constructor(nativePty: native.NativePty, size: WindowSize, spawned: { resolve: () => void; reject: (err: Error) => void }) {
    super({ readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024, allowHalfOpen: true })
    this.#native = nativePty
    this.#id = nativePty.id
    this.#cols = size.cols
    this.#rows = size.rows
    this.#spawn = spawned
    this.#session = new Session(nativePty)
    byId.set(this.#id, new WeakRef(this))
    forget.register(this, this.#id)
    this.once('end', () => {
      this.#ended = true
      // After the user's own `end` listeners: `exit` must come after `end`.
      process.nextTick(() => this.#settle())
    })
    this.#settle()
  }

  /** The child's process id. */
  get pid(): number {
    return this.#native.pid
  }

  /** The master fd, as Python's `pty.fork()` returns it; -1 once closed. You may read and write
   * it directly, as in Python, until the stream is first used (read from or written to): that
   * makes it non-blocking. */
  get fd(): number {
    return this.#native.fd
  }

  /** The slave's path, e.g. `/dev/pts/3`. */
  get ptsName(): string {
    return this.#native.ptsName
  }

  get cols(): number {
    return this.#cols
  }

  get rows(): number {
    return this.#rows
  }

  /** How the child ended, once it has (and the `exit` event has been emitted). */
  get exitStatus(): ExitStatus | undefined {
    return this.#exitDelivered ? this.#exit : undefined
  }

  /** Resizes the terminal; the child gets SIGWINCH. */
  resize(cols: number, rows: number): void {
    // Both are required here: `undefined` is not "the default size".
    const size = {
      cols: checkInteger(cols, 'cols', 1, MAX_CELLS),
      rows: checkInteger(rows, 'rows', 1, MAX_CELLS),
    }
    if (this.#closed) throw stateError('ERR_PTY_CLOSED', 'resize')
    if (this.#exit) throw stateError('ERR_PTY_EXITED', 'resize')
    callNative(() => this.#native.resize(size.cols, size.rows))
    this.#cols = size.cols
    this.#rows = size.rows
  }

  /** Sends a signal (default SIGTERM). `false` if the child is already gone. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const num = signalNumber(signal)
    if (this.#exit) return false
    return callNative(() => this.#native.kill(num))
  }

  /** Resolves with the exit status; after the output's last byte when the output is read. */
  wait(): Promise<ExitStatus> {
    if (this.#exitDelivered && this.#exit) return Promise.resolve(this.#exit)
    return new Promise((resolve) => this.#exitWaiters.push(resolve))
  }

  /** Hangs up: closes the master. The output ends; the child gets SIGHUP from the kernel. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#release()
    if (!this.#eof) {
      this.#eof = true
      this.push(null)
    }
    this.#failWrite(() => stateError('ERR_PTY_CLOSED', 'write'))
    this.#settle()
  }

  /** Keeps the event loop alive while the child is active (the default). */
  ref(): this {
    this.#referenced = true
    this.#settle()
    return this
  }

  /** Lets the event loop exit while the child still runs. */
  unref(): this {
    this.#referenced = false
    this.#settle()
    return this
  }

  /** The terminal's foreground process (what the user runs now); `null` after the exit. */
  foreground(): ForegroundProcess | null {
    return this.#exit ? null : this.#session.foreground()
  }

  /** Every process still in the terminal's session, and the child's descendants that left it. */
  processes(): SessionProcess[] {
    return this.#session.processes()
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
    this.#terminating ??= this.#session.end(opts.signal, opts.graceMs, () => this.close()).then(() => this.wait())
    return this.#terminating
  }

  /** `terminate()` with a grace of {@link DISPOSE_GRACE_MS}: nothing of the terminal is left. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate({ graceMs: DISPOSE_GRACE_MS })
  }

  override _read(): void {
    // Readable asks again after every chunk: while the reactor is still pulling, that is news
    // to nobody, and skipping it saves a native call per chunk.
    if (this.#closed || this.#eof || this.#pulling) return
    this.#consumed = true
    this.#settle()
    callNative(() => this.#native.resume())
    this.#pulling = true
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#closed) return callback(stateError('ERR_PTY_CLOSED', 'write'))
    if (this.#exit) return callback(stateError('ERR_PTY_EXITED', 'write'))
    this.#sendInput(() => this.#native.write(chunk), callback)
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#closed || this.#exit) return callback()
    this.#sendInput(() => this.#native.sendEof(), callback)
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // Destroying a stream whose child has exited (as `for await` does at the end) only lets
    // the master go. Once the output has ended the child is on its way out (a program may
    // close its terminal fds before it exits): it is not hung up, the master goes at its exit.
    // Otherwise destroying hangs up.
    if (this.#exit) {
      this.#eof = true
      this.#release()
      this.#settle()
    } else if (this.#eof) {
      this.#releaseAtExit = true
    } else {
      this.close()
    }
    callback(err)
  }

  #sendInput(send: () => boolean, callback: (err?: Error | null) => void): void {
    let done: boolean
    try {
      done = callNative(send)
    } catch (err) {
      return callback(err as Error)
    }
    if (done) callback()
    else this.#writeCallback = callback
  }

  /** Fails the write in progress, if any. The error is made only then: capturing its stack
   * for nothing at every exit is a large part of what an exit costs. */
  #failWrite(error: () => Error): void {
    const callback = this.#writeCallback
    this.#writeCallback = undefined
    callback?.(error())
  }

  /** @internal Hands the I/O to the native copy loop (see `spawn`). */
  _startRelay(stdin: number, stdout: number, hookOutput: boolean, hookInput: boolean, listener: RelayListener): void {
    callNative(() => this.#native.startRelay(stdin, stdout, hookOutput, hookInput))
    this.#relay = listener
    this.#settle()
  }

  /** @internal A hook's answer for a relay lane; `null` is end-of-file. */
  _relayAnswer(lane: number, data: Uint8Array | null): void {
    if (!this.#released) this.#native.relayAnswer(lane, data)
  }

  /** @internal The relay is over: no more relay events are wanted. */
  _stopRelay(): void {
    this.#relay = undefined
    this.#relayDone = true
    this.#settle()
  }

  #release(): void {
    if (this.#released) return
    this.#released = true
    this.#native.close()
  }

  /** @internal Dispatches one event from the reactor. */
  _event(kind: number, data: Buffer | null, a: number, b: number): void {
    switch (kind) {
      case Kind.Spawned: {
        const spawn = this.#spawn
        this.#spawn = undefined
        spawn?.resolve()
        break
      }
      case Kind.SpawnFailed: {
        const spawn = this.#spawn
        this.#spawn = undefined
        const syscall = STEP_SYSCALLS[a] ?? 'execve'
        const path = syscall === 'chdir' ? this.#native.cwd ?? undefined : syscall === 'execve' ? this.#native.program : undefined
        this.#closed = true
        this.#eof = true
        this.#release()
        spawn?.reject(systemError(b, syscall, path))
        break
      }
      case Kind.Data:
        if (data && !this.#eof && !this.push(data)) {
          this.#pulling = false
          this.#native.pause()
        }
        break
      case Kind.Eof:
        this.#endOutput()
        break
      case Kind.Exit:
        this.#exited(a)
        break
      case Kind.EofExit:
        this.#endOutput()
        this.#exited(a)
        break
      case Kind.Drained: {
        const callback = this.#writeCallback
        this.#writeCallback = undefined
        callback?.()
        break
      }
      case Kind.WriteFailed:
        this.#failWrite(() => systemError(a, 'write'))
        break
      case Kind.RelayChunk:
        if (data) this.#relay?.chunk(a, data)
        break
      case Kind.RelayDone:
        this.#relayDone = true
        this.#relay?.done()
        break
      case Kind.RelayFailed:
        this.#relay?.failed(a)
        break
    }
    this.#settle()
  }

  #endOutput(): void {
    if (this.#eof) return
    this.#eof = true
    this.push(null)
  }

  #exited(status: number): void {
    this.#exit = decodeStatus(status)
    this.#failWrite(() => stateError('ERR_PTY_EXITED', 'write'))
  }

  /** Brings everything that follows from the current state up to date: the exit event, the
   * master's release, and whether this child keeps the event loop (and itself) alive. */
  #settle(): void {
    let deliver: ExitStatus | undefined
    if (this.#spawn) {
      // Still spawning: nothing else can be decided yet.
    } else if (this.#exit && !this.#exitDelivered) {
      const outputDone = !this.#consumed || this.#ended || this.#released || this.#releaseAtExit
      if (outputDone) {
        this.#exitDelivered = true
        deliver = this.#exit
        for (const resolve of this.#exitWaiters.splice(0)) resolve(deliver)
      }
    }
    // The output has been read to its end and the child is gone: the master is no use now.
    if (this.#exitDelivered && (this.#ended || this.#releaseAtExit)) this.#release()
    const relaying = this.#relay !== undefined && !this.#relayDone
    const needsLoop = !this.#exitDelivered || relaying || (this.#consumed && !this.#ended && !this.#released && !this.#releaseAtExit)
    if (needsLoop) active.add(this)
    else active.delete(this)
    const hold = needsLoop && this.#referenced
    if (hold !== this.#holdingLoop) {
      this.#holdingLoop = hold
      if (hold) retainLoop()
      else releaseLoop()
    }
    // Last: a listener that throws must not leave the bookkeeping above undone.
    if (deliver) this.emit('exit', deliver.exitCode, deliver.signal)
  }
}
