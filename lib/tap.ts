// One `data` listener per child, shared by `expect()` and the child's Screen: each sees every
// chunk the stream delivers, whoever else reads it.

import type { Readable } from 'node:stream'

import { codedError } from './errors'

/** What a tap hands its subscribers. */
export interface OutputSink {
  data(chunk: Buffer): void
  /** The output ended (the stream's `end`, or its `close` without one). */
  end(): void
}

interface Tap {
  readonly sinks: Set<OutputSink>
  ended: boolean
}

const taps = new WeakMap<Readable, Tap>()

/**
 * Subscribes `sink` to the stream's output from now on and returns the unsubscribe function.
 * The first subscriber attaches a `data` listener, which makes the stream flow (it is read):
 * output nobody has read yet, buffered in the stream, is delivered first.
 */
export function tapOutput(stream: Readable, sink: OutputSink): () => void {
  let tap = taps.get(stream)
  if (!tap) {
    const fresh: Tap = { sinks: new Set(), ended: stream.readableEnded }
    const ended = (): void => {
      if (fresh.ended) return
      fresh.ended = true
      for (const s of [...fresh.sinks]) s.end()
    }
    stream.on('data', (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      for (const s of [...fresh.sinks]) s.data(bytes)
    })
    stream.once('end', ended)
    stream.once('close', ended)
    taps.set(stream, fresh)
    tap = fresh
  }
  const current = tap
  current.sinks.add(sink)
  if (current.ended) queueMicrotask(() => sink.end())
  return () => {
    current.sinks.delete(sink)
  }
}

/** Checks a `timeout` option (milliseconds; `Infinity` waits forever). */
export function checkTimeout(value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `options.timeout must be a number, got ${typeof value}`)
  }
  if (!(value > 0)) {
    throw codedError(RangeError, 'ERR_OUT_OF_RANGE', `options.timeout must be a positive number of milliseconds or Infinity, got ${value}`)
  }
  return value
}

/** A timer, left out when the timeout is infinite. It keeps the event loop alive, as any
 * pending wait should: a test awaiting the screen must not see the process end under it. */
export function startTimer(ms: number, fire: () => void): { clear(): void } {
  if (ms === Infinity) return { clear() {} }
  // Beyond setTimeout's range the timer would fire at once.
  const timer = setTimeout(fire, Math.min(ms, 0x7fffffff))
  return { clear: () => clearTimeout(timer) }
}

/** What was awaited, for a message: strings and RegExps as written. */
export function describePattern(pattern: unknown): string {
  if (typeof pattern === 'string') return JSON.stringify(pattern)
  if (pattern instanceof RegExp) return String(pattern)
  if (typeof pattern === 'function') return `a predicate (${pattern.name || 'anonymous'})`
  if (typeof pattern === 'symbol') return pattern.description ?? 'a symbol'
  return String(pattern)
}

/** The last KiB of `text`, for an error message. */
export function tail(text: string, max = 1024): string {
  return text.length > max ? `…${text.slice(-max)}` : text
}
