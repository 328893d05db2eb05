// The option checks and the event helper that spawn and open share.

import type { EventEmitter } from 'node:events'

import { codedError } from './errors'
import type { IDisposable, IEvent } from './node-pty-types'
import { checkInteger, describe, MAX_CELLS } from './validate'

/** node-pty's check of an option's type (a falsy value counts as absent), as a TypeError. */
export function checkOptionType(name: string, value: unknown, type: string): void {
  if (value && typeof value !== type) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a ${type}, got ${describe(value)}`)
  }
}

/** The encoding option: a Node encoding, or `null` for Buffers. */
export function checkEncoding(value: unknown): BufferEncoding | null {
  if (value === undefined) return 'utf8'
  if (value === null) return null
  if (typeof value !== 'string' || !Buffer.isEncoding(value)) {
    throw codedError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${typeof value === 'string' ? value : describe(value)}`)
  }
  return value
}

/** `cols` or `rows` as node-pty reads them: 0 or absent is the default. */
export function checkCells(value: unknown, name: string, fallback: number): number {
  return value ? checkInteger(value, name, 1, MAX_CELLS) : fallback
}

/** Subscribes to an emitter's event, as an {@link IEvent}. */
export function eventOf<T>(emitter: EventEmitter, name: string): IEvent<T> {
  return (listener: (e: T) => unknown): IDisposable => {
    const call = (e: T): void => void listener(e)
    emitter.on(name, call)
    return { dispose: () => void emitter.removeListener(name, call) }
  }
}
