// The readable side of a PtyProcess: pulling the child's output from the reactor with
// backpressure, and what `wait()` does with output that nobody reads.

import type { Readable } from 'node:stream'

import type * as native from './native'
import { callNative } from './errors'

/** How much output `wait()` may read on into the buffer of a stream nobody reads before it
 * warns (once): past this, output that nobody reads is more likely a mistake than a plan. */
export const UNREAD_OUTPUT_WARNING_BYTES = 64 * 1024 * 1024

/**
 * Asks the reactor for output while the stream wants more, and tells it to pause when the
 * stream's buffer is full. Once `wait()` has been called on output nobody reads, it reads on
 * past the buffer's high-water mark (so the child, which blocks when the terminal is full, can
 * finish) until someone reads: a consumer then gets every byte, and backpressure again.
 */
export class Output {
  readonly #stream: Readable
  readonly #native: native.NativePty
  /** The reactor has been asked for output and not told to pause since. */
  #pulling = false
  /** The output has been pushed to its end (or cut short: a hang-up, a failed start). */
  eof = false
  /** Someone reads the output (or has read it). */
  consumed = false
  /** `wait()` asked for the output to be read on while nobody reads it. */
  #readOn = false
  #warned = false

  constructor(stream: Readable, nativePty: native.NativePty) {
    this.#stream = stream
    this.#native = nativePty
  }

  /** `_read`, unless the master is closed. `true` when `consumed` just became so. */
  read(closed: boolean): boolean {
    const before = this.consumed
    // Readable also reads by itself after a push (as when reading on): a consumer is one that
    // made the stream flow or listens for 'readable'.
    if (this.#stream.readableFlowing !== null) this.consumed = true
    // Readable asks again after every chunk: while the reactor is still pulling, that is news
    // to nobody, and skipping it saves a native call per chunk.
    if (!closed && !this.eof && !this.#pulling) {
      this.consumed = true
      this.#pull()
    }
    return this.consumed !== before
  }

  /** A 'data' or 'readable' listener is being added: a consumer from now on, even when the
   * stream asks `_read` for nothing more (it has asked already, while `wait()` read on). `true`
   * when `consumed` just became so. */
  attach(): boolean {
    if (this.consumed) return false
    this.consumed = true
    return true
  }

  /** `wait()` was called: if nobody reads, read on. */
  readOn(): void {
    if (this.consumed || this.eof || this.#readOn) return
    this.#readOn = true
    if (!this.#pulling) this.#pull()
  }

  /** A chunk from the reactor. */
  data(chunk: Buffer): void {
    if (this.eof || this.#stream.push(chunk) || this.#readingOn()) return
    this.#pulling = false
    this.#native.pause()
  }

  /** The output has ended, or is cut short here (a hang-up). */
  end(): void {
    if (this.eof) return
    this.eof = true
    this.#stream.push(null)
  }

  #pull(): void {
    callNative(() => this.#native.resume())
    this.#pulling = true
  }

  /** Whether a chunk past the high-water mark is kept reading on. Warns once the buffer is
   * large: without a bound nothing is lost, and a child that prints for ever shows why. */
  #readingOn(): boolean {
    if (!this.#readOn || this.#stream.readableFlowing !== null) return false
    if (!this.#warned && this.#stream.readableLength > UNREAD_OUTPUT_WARNING_BYTES) {
      this.#warned = true
      process.emitWarning(
        `napi-pty: more than ${UNREAD_OUTPUT_WARNING_BYTES / 1048576} MiB of the output of pid ${this.#native.pid} is buffered: wait() ` +
          `reads on while nobody reads the output. Read it (for await, 'data', pipe) or discard it (resume()).`,
        { code: 'NAPI_PTY_UNREAD_OUTPUT' },
      )
    }
    return true
  }
}
