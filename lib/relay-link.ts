// What a PtyProcess knows of spawn's native copy loop: whether it runs, and its events.

import type * as native from './native'
import { callNative } from './errors'
import { Kind, type RelayListener } from './events'

/** The link between a PtyProcess and the native copy loop that `spawn` hands its I/O to. */
export class RelayLink {
  readonly #native: native.NativePty
  readonly #open: () => boolean
  readonly #changed: () => void
  #listener: RelayListener | undefined
  #done = false

  /** `open`: whether the master is still open; `changed`: to call when `running` may have. */
  constructor(nativePty: native.NativePty, open: () => boolean, changed: () => void) {
    this.#native = nativePty
    this.#open = open
    this.#changed = changed
  }

  /** The copy loop has the I/O and is not over. */
  get running(): boolean {
    return this.#listener !== undefined && !this.#done
  }

  /** The copy loop has had the I/O, whether or not it is over. */
  get used(): boolean {
    return this.#listener !== undefined || this.#done
  }

  /** Hands the I/O to the native copy loop. */
  start(stdin: number, stdout: number, hookOutput: boolean, hookInput: boolean, listener: RelayListener): void {
    callNative(() => this.#native.startRelay(stdin, stdout, hookOutput, hookInput))
    this.#listener = listener
    this.#changed()
  }

  /** A hook's answer for a lane; `null` is end-of-file. Dropped once the master is closed. */
  answer(lane: number, data: Uint8Array | null): void {
    if (this.#open()) this.#native.relayAnswer(lane, data)
  }

  /** The relay is over: no more relay events are wanted. */
  stop(): void {
    this.#listener = undefined
    this.#done = true
    this.#changed()
  }

  /** A relay event from the reactor. */
  event(kind: number, data: Buffer | null, a: number): void {
    if (kind === Kind.RelayChunk) {
      if (data) this.#listener?.chunk(a, data)
    } else if (kind === Kind.RelayDone) {
      this.#done = true
      this.#listener?.done()
    } else if (kind === Kind.RelayFailed) {
      this.#listener?.failed(a)
    }
  }
}
