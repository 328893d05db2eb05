// PtyCore: a child on a pseudo-terminal, as a Duplex stream (PtyProcess's base).

import { Duplex } from 'node:stream'

import type * as native from './native'
import { callNative, startError, stateError } from './errors'
import { Kind, STEP_SYSCALLS } from './events'
import { Gate, Input } from './input'
import { LoopHold } from './loop-hold'
import { Output } from './output'
import { active, byId, forget } from './registry'
import { RelayLink } from './relay-link'
import type { ExitStatus, WindowSize } from './types'
import { checkInteger, decodeStatus, MAX_CELLS, signalNumber } from './validate'

type WriteCallback = (err?: Error | null) => void

/**
 * The stream at the heart of {@link PtyProcess}: the child's output as the readable side, its
 * input as the writable side, and everything the reactor's events decide (spawned, exited,
 * ended, released). What is built on top of it only through its public API lives in
 * `PtyProcess` (lib/pty-process.ts).
 */
export class PtyCore extends Duplex {
  readonly #native: native.NativePty
  readonly #input: Input
  readonly #output: Output
  readonly #id: number
  #cols: number
  #rows: number
  #spawn: { resolve: () => void; reject: (err: Error) => void } | undefined
  /** fork() has resolved, and the code after its `await` may not have run yet. */
  #handingOver = false
  #exit: ExitStatus | undefined
  #exitDelivered = false
  #exitWaiters: Array<(status: ExitStatus) => void> = []
  #ended = false
  /** The user hung up (`close()`, `destroy()`). */
  #closed = false
  /** The master has been closed, by the user or because it was of no more use. */
  #released = false
  /** Destroyed after the output ended: release the master once the child has exited. */
  #releaseAtExit = false
  readonly #loop = new LoopHold()
  /** The input was ended here, not by the application: the child had exited, the output ended. */
  #autoEnded = false
  /** @internal spawn's native copy loop. */
  readonly _relay: RelayLink

  /** @internal */
  constructor(nativePty: native.NativePty, size: WindowSize, spawned: { resolve: () => void; reject: (err: Error) => void }) {
    super({ readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024, allowHalfOpen: true })
    this.#native = nativePty
    this.#input = new Input(nativePty)
    this.#output = new Output(this, nativePty)
    this._relay = new RelayLink(nativePty, () => !this.#released, () => this.#settle())
    this.#id = nativePty.id
    this.#cols = size.cols
    this.#rows = size.rows
    this.#spawn = spawned
    byId.set(this.#id, new WeakRef(this))
    forget.register(this, this.#id)
    // A reader that comes once the exit is delivered holds the event loop until the output's
    // end: `_read` alone may never hear of it.
    this.on('newListener', (event: string | symbol) => {
      if ((event === 'data' || event === 'readable') && this.#output.attach()) this.#settle()
    })
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
   * it directly, as in Python, until the stream is first used (read from or written to, or
   * `wait()` called with the output unread): that makes it non-blocking. */
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

  /** @internal Whether the child has exited (its `exit` may still wait for the output's end). */
  get _exited(): boolean {
    return this.#exit !== undefined
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
    this.emit('resize', size.cols, size.rows)
  }

  /** Sends a signal (default SIGTERM). `false` if the child is already gone. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const num = signalNumber(signal)
    if (this.#exit) return false
    return callNative(() => this.#native.kill(num))
  }

  /** Resolves with the exit status; after the output's last byte when the output is read.
   * When nobody reads it, the output is read on into this stream's buffer (no backpressure)
   * until someone does, so that a child with more to say than the terminal holds can finish:
   * a reader that comes later gets every byte. */
  wait(): Promise<ExitStatus> {
    if (this.#exitDelivered && this.#exit) return Promise.resolve(this.#exit)
    // Not when spawn's relay has the output, nor once the application has hung up.
    if (!this._relay.used && !this.#closed) this.#output.readOn()
    return new Promise((resolve) => this.#exitWaiters.push(resolve))
  }

  /** Hangs up: closes the master. The output ends; the child gets SIGHUP from the kernel. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#release()
    this.#output.end()
    this.#input.closed()
    this.#settle()
  }

  /** Keeps the event loop alive while the child is active (the default). */
  ref(): this {
    this.#loop.referenced = true
    this.#settle()
    return this
  }

  /** Lets the event loop exit while the child still runs. */
  unref(): this {
    this.#loop.referenced = false
    this.#settle()
    return this
  }

  override _read(): void {
    if (this.#output.read(this.#closed)) this.#settle()
  }

  /** A write after the child's exit (a keystroke that raced it) is dropped, not an `'error'`:
   * `write()` returns `false` and the callback gets `ERR_PTY_EXITED`. Not so after the
   * application's own `close()` or `end()`: those writes are errors, as on any stream. */
  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    const exited = this.#exit !== undefined && !this.#closed && (!this.writableEnded || this.#autoEnded)
    return this.#input.accept(chunk, encoding, callback, exited, (c, e, cb) => super.write(c, e as BufferEncoding, cb))
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#input.write(chunk, this.#closed ? Gate.Closed : this.#exit ? Gate.Exited : Gate.Open, callback)
  }

  override _final(callback: WriteCallback): void {
    if (this.#closed || this.#exit) return callback()
    this.#input.end(callback)
  }

  override _destroy(err: Error | null, callback: WriteCallback): void {
    // Destroying a stream whose child has exited (as `for await` does at the end) only lets
    // the master go. Once the output has ended the child is on its way out (a program may
    // close its terminal fds before it exits): it is not hung up, the master goes at its exit.
    // Otherwise destroying hangs up.
    if (this.#exit) {
      this.#output.eof = true
      this.#release()
      this.#settle()
    } else if (this.#output.eof) {
      this.#releaseAtExit = true
    } else {
      this.close()
    }
    callback(err)
  }

  #release(): void {
    if (this.#released) return
    this.#released = true
    this.#native.close()
  }

  /** @internal The program runs: it has its own session now (a plain `fork` returns before the
   * child's `setsid`, the exec report comes after it). */
  protected _spawned(): void {}

  /** @internal Dispatches one event from the reactor. */
  _event(kind: number, data: Buffer | null, a: number, b: number): void {
    switch (kind) {
      case Kind.Spawned: {
        const spawn = this.#spawn
        this.#spawn = undefined
        this._spawned()
        spawn?.resolve()
        // An exit in the same batch waits for the code after `await fork()` to attach listeners.
        this.#handingOver = true
        setImmediate(() => {
          this.#handingOver = false
          this.#settle()
        })
        break
      }
      case Kind.SpawnFailed: {
        const spawn = this.#spawn
        this.#spawn = undefined
        this.#closed = true
        this.#output.eof = true
        this.#release()
        spawn?.reject(startError(STEP_SYSCALLS[a] ?? 'execve', b, this.#native))
        break
      }
      case Kind.Data:
        if (data) this.#output.data(data)
        break
      case Kind.Eof:
      case Kind.EofExit:
        this.#output.end()
        if (kind === Kind.EofExit) this.#exited(a)
        break
      case Kind.Exit:
        this.#exited(a)
        break
      case Kind.Drained:
        this.#input.drained()
        break
      case Kind.WriteFailed:
        this.#input.failed(a)
        break
      default:
        this._relay.event(kind, data, a)
    }
    this.#settle()
  }

  #exited(status: number): void {
    this.#exit = decodeStatus(status)
    this.#input.exited()
  }

  /** Brings everything that follows from the current state up to date: the exit event, the
   * master's release, and whether this child keeps the event loop (and itself) alive. */
  #settle(): void {
    let deliver: ExitStatus | undefined
    if (this.#spawn || this.#handingOver) {
      // Still spawning, or just handed over: nothing else can be decided yet.
    } else if (this.#exit && !this.#exitDelivered) {
      const outputDone = !this.#output.consumed || this.#ended || this.#released || this.#releaseAtExit
      if (outputDone) {
        this.#exitDelivered = true
        deliver = this.#exit
        for (const resolve of this.#exitWaiters.splice(0)) resolve(deliver)
      }
    }
    // The output has been read to its end and the child is gone: the master is no use now.
    if (this.#exitDelivered && (this.#ended || this.#releaseAtExit)) this.#release()
    const reading = this.#output.consumed && !this.#ended && !this.#released && !this.#releaseAtExit
    const needsLoop = !this.#exitDelivered || this._relay.running || reading
    if (needsLoop) active.add(this)
    else active.delete(this)
    this.#loop.update(needsLoop)
    // The child has exited and its output has ended: nothing can be written to it, and
    // nothing more will be read. Finish the input too, so that the stream closes, as a socket
    // does when its peer has gone.
    if (this.#exitDelivered && this.#ended && !this.writableEnded && !this.destroyed) {
      this.#autoEnded = true
      this.end()
    }
    // Last: a listener that throws must not leave the bookkeeping above undone.
    if (deliver) this.emit('exit', deliver.exitCode, deliver.signal)
  }
}
