// Where the reactor's events go: one native EventSink per Env, dispatching to each child's
// object by id, and the reference count that keeps the event loop alive while any child is
// active.

import * as native from './native'

/** What an event is dispatched to (a PtyProcess). */
export interface Receiver {
  _event(kind: number, data: Buffer | null, a: number, b: number): void
}

/** Every object the reactor may still send events to. Weak: one that is done and dropped by
 * the user may be collected, which closes its master. */
export const byId = new Map<number, WeakRef<Receiver>>()
export const forget = new FinalizationRegistry<number>((id) => {
  if (byId.get(id)?.deref() === undefined) byId.delete(id)
})
/** The ones that are active (spawning, running, or output still flowing): kept alive. */
export const active = new Set<Receiver>()

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
