// The event protocol between the reactor and the facade: the kinds of event, the relay's lanes,
// the set-up steps and the grace times. All but DISPOSE_GRACE_MS come from the binding
// (`src/protocol.rs`), where each is defined once.

import * as native from './native'

export { Kind } from './native'

/** What `spawn` hears from a PtyProcess whose I/O it has handed to the native copy loop. */
export interface RelayListener {
  chunk(lane: number, data: Buffer): void
  done(): void
  /** Writing to stdout failed (`errno`, positive), other than by stdout going away. */
  failed(errno: number): void
}

/** The syscall of each failing child set-up step, by the step's number. */
export const STEP_SYSCALLS: readonly string[] = Object.freeze(native.stepSyscalls())

/** The relay's lanes: a hook chunk's `a`, and what `relayAnswer` is told. */
export const LANE_OUTPUT: number = native.LANE_OUTPUT
export const LANE_INPUT: number = native.LANE_INPUT

/** After the child has exited, how long a silent terminal still held open by another process
 * (a grandchild) may delay the end of the output. */
export const EXIT_GRACE_MS: number = native.EXIT_GRACE_MS
/** ...and how long after the exit it ends at the latest. */
export const EXIT_GRACE_MAX_MS: number = native.EXIT_GRACE_MAX_MS
/** The grace `Symbol.asyncDispose` (and an aborted `fork` or `spawn`) gives `terminate()`
 * before it sends SIGKILL to what is left. Only the facade uses it, so it is defined here. */
export const DISPOSE_GRACE_MS = 1000
