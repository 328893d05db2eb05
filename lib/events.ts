// Events from the reactor: one native EventSink per Env, dispatching to PtyProcess objects by
// id, and the reference count that keeps the event loop alive while any child is active.

import * as native from './native'
import type { PtyProcess } from './pty-process'

/** Event kinds; mirrors `src/sink.rs`. */
export enum Kind {
  Spawned = 1,
  SpawnFailed = 2,
  Data = 3,
  Eof = 4,
  Exit = 5,
  Drained = 6,
  WriteFailed = 7,
  RelayChunk = 8,
  RelayDone = 9,
  RelayFailed = 10,
  /** Eof and Exit at once. */
  EofExit = 11,
}

/** What `spawn` hears from a PtyProcess whose I/O it has handed to the native copy loop. */
export interface RelayListener {
  chunk(lane: number, data: Buffer): void
  done(): void
  /** Writing to stdout failed (`errno`, positive), other than by stdout going away. */
  failed(errno: number): void
}

/** The syscall of each failing child step; mirrors `Step` in `src/child.rs`. */
export const STEP_SYSCALLS = ['', 'setsid', 'ioctl', 'dup2', 'chdir', 'setgroups', 'setgid', 'setuid', 'execve']

/** Every PtyProcess the reactor may still send events to. Weak: one that is done and dropped
 * by the user may be collected, which closes its master. */
export const byId = new Map<number, WeakRef<PtyProcess>>()
export const forget = new FinalizationRegistry<number>((id) => {
  if (byId.get(id)?.deref() === undefined) byId.delete(id)
})
/** The ones that are active (spawning, running, or output still flowing): kept alive. */
export const active = new Set<PtyProcess>()

let sinkInstance: native.EventSink | undefined
let refCount = 0

export function sink(): native.EventSink {
  sinkInstance ??= new native.EventSink((kind, id, data, a, b) => {
    byId.get(id)?.deref()?._event(kind, data, a, b)
  })
  return sinkInstance
}

export function retainLoop(): void {
  if (refCount++ === 0) sink().setRef(true)
}

export function releaseLoop(): void {
  if (--refCount === 0) sink().setRef(false)
}

/** After the child has exited, how long a silent terminal still held open by another process
 * (a grandchild) may delay the end of the output. Mirrors `EXIT_GRACE` in `src/reactor.rs`. */
export const EXIT_GRACE_MS = 100
/** ...and how long after the exit it ends at the latest. Mirrors `EXIT_GRACE_MAX`. */
export const EXIT_GRACE_MAX_MS = 1000
/** How long `Symbol.asyncDispose` waits after hanging up before it sends SIGKILL. */
export const DISPOSE_GRACE_MS = 1000
