// Whether a PtyProcess keeps the event loop alive.

import { releaseLoop, retainLoop } from './registry'

/** One child's share of the reference that keeps the event loop alive (see `ref()`). */
export class LoopHold {
  /** `ref()` (the default) or `unref()`. */
  referenced = true
  #holding = false

  /** Holds the loop while the child needs it and is referenced; lets it go otherwise. */
  update(needed: boolean): void {
    const hold = needed && this.referenced
    if (hold === this.#holding) return
    this.#holding = hold
    if (hold) retainLoop()
    else releaseLoop()
  }
}
