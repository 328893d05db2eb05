// The writable side of a PtyProcess: input to the master, and what becomes of input that races
// the child's exit (a keystroke that arrives after the shell has exited).

import * as os from 'node:os'

import type * as native from './native'
import { callNative, stateError, systemError } from './errors'

type Callback = (err?: Error | null) => void

const EIO = os.constants.errno.EIO

/** What `_write` is to do with a chunk. */
export enum Gate {
  Open,
  /** The child has exited: the chunk is dropped, its callback told, no `'error'`. */
  Exited,
  /** The application hung up: an error, as any write after `close()`. */
  Closed,
}

/**
 * Writes to the master. A chunk that cannot reach the child because it has gone (exited, or
 * every slave fd closed: EIO) is dropped: Writable is told it went, so that no `'error'` is
 * emitted, and the application's own callback gets `ERR_PTY_EXITED`. Chunks are matched to
 * callbacks by their place in the sequence: Writable hands `_write` every chunk it accepted,
 * one at a time and in order (there is no `_writev`).
 */
export class Input {
  readonly #native: native.NativePty
  /** Chunks handed to Writable, and chunks Writable handed to `_write`. */
  #accepted = 0
  #started = 0
  /** Chunks dropped whose callbacks have not yet been called. */
  readonly #dropped = new Set<number>()
  /** What the reactor is still writing (a chunk, or end-of-file as -1), and its callback. */
  #pending: { seq: number; callback: Callback } | undefined

  constructor(nativePty: native.NativePty) {
    this.#native = nativePty
  }

  /** `write()`. With `exited`, the chunk is dropped at once: `false`, and the callback gets
   * `ERR_PTY_EXITED`. Else it goes to `write` (Writable's own) with a callback that tells the
   * application's whether the chunk was dropped on its way. */
  accept(chunk: unknown, encoding: unknown, callback: unknown, exited: boolean, write: (chunk: unknown, encoding: BufferEncoding | undefined, callback: Callback) => boolean): boolean {
    if (typeof encoding === 'function') {
      callback = encoding
      encoding = undefined
    }
    const done = callback as Callback | undefined
    if (exited && (typeof chunk === 'string' || chunk instanceof Uint8Array)) {
      if (done) process.nextTick(done, stateError('ERR_PTY_EXITED', 'write'))
      return false
    }
    const seq = this.#accepted++
    try {
      return write(chunk, encoding as BufferEncoding | undefined, (err) => {
        const dropped = this.#dropped.delete(seq)
        done?.(err ?? (dropped ? stateError('ERR_PTY_EXITED', 'write') : null))
      })
    } catch (err) {
      // Refused (a chunk of the wrong type): it never reaches `_write`.
      this.#accepted--
      throw err
    }
  }

  /** `_write`. */
  write(chunk: Buffer, gate: Gate, callback: Callback): void {
    const seq = this.#started++
    if (gate === Gate.Closed) return callback(stateError('ERR_PTY_CLOSED', 'write'))
    if (gate === Gate.Exited) return this.#drop(seq, callback)
    this.#send(seq, () => this.#native.write(chunk), callback)
  }

  /** `_final`: the terminal's end-of-file for the child. */
  end(callback: Callback): void {
    this.#send(-1, () => this.#native.sendEof(), callback)
  }

  /** The reactor has written the rest. */
  drained(): void {
    this.#take()?.callback()
  }

  /** The reactor could not write the rest (`errno`, positive). */
  failed(errno: number): void {
    const pending = this.#take()
    if (!pending) return
    if (errno === EIO) this.#drop(pending.seq, pending.callback)
    else pending.callback(systemError(errno, 'write'))
  }

  /** The child has exited: what the reactor still had for it is dropped. */
  exited(): void {
    const pending = this.#take()
    if (pending) this.#drop(pending.seq, pending.callback)
  }

  /** The application hung up: the write in progress fails, as writes after `close()` do. */
  closed(): void {
    // The error is made only when there is a write: capturing a stack for nothing at every
    // hang-up would cost.
    this.#take()?.callback(stateError('ERR_PTY_CLOSED', 'write'))
  }

  #take(): { seq: number; callback: Callback } | undefined {
    const pending = this.#pending
    this.#pending = undefined
    return pending
  }

  #send(seq: number, send: () => boolean, callback: Callback): void {
    let done: boolean
    try {
      done = callNative(send)
    } catch (err) {
      // EIO: every slave fd is closed; the child is gone, or going, and its exit not yet seen.
      if ((err as NodeJS.ErrnoException).code === 'EIO') return this.#drop(seq, callback)
      return callback(err as Error)
    }
    if (done) callback()
    else this.#pending = { seq, callback }
  }

  #drop(seq: number, callback: Callback): void {
    if (seq >= 0) this.#dropped.add(seq)
    callback()
  }
}
