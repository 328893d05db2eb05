// PtyProcess: what fork() returns. The stream itself is PtyCore (lib/pty-core.ts); what is
// built on it through its public API alone is here: typed events and the test-driving methods.

import { childScreen, expectChild, pressKeys, type ExpectOptions, type ExpectPattern, type ExpectResult } from './drive'
import { PtyCore } from './pty-core'
import type { Screen, ScreenOptions } from './screen'
import type { PtyProcessEventName as Name, PtyProcessListener as Listener } from './types'

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

/**
 * A child running on a pseudo-terminal. A `Duplex`: reading gives the child's output, writing
 * feeds its input, both with backpressure.
 */
export class PtyProcess extends PtyCore {
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
