// expect(): waits for a pattern in a child's output, as pexpect does. The output is decoded as
// UTF-8 (a character split across chunks is kept whole) into a buffer; a match consumes the
// buffer up to its end, and what came before it is the result's `before`.

import { StringDecoder } from 'node:string_decoder'
import type { Readable } from 'node:stream'

import { codedError } from './errors'
import { checkOptions, describe } from './validate'
import { checkTimeout, describePattern, startTimer, tail, tapOutput, type OutputSink } from './tap'

/** The end of the output: the child has exited and every byte it wrote has been read. */
export const EOF: unique symbol = Symbol('EOF')

export type ExpectPattern = string | RegExp | typeof EOF

export interface ExpectOptions {
  /** Milliseconds before the Promise rejects with `code: 'ERR_PTY_TIMEOUT'`. Default 10,000;
   * `Infinity` waits for ever. */
  timeout?: number
}

export interface ExpectResult {
  /** The matched text for a string, the RegExp's match (groups included), or `EOF`. */
  match: string | RegExpExecArray | typeof EOF
  /** The output between the previous match (or the start) and this one. */
  before: string
  /** Which pattern matched, when an array was given (else 0). */
  index: number
}

/** What expect() needs of a child. */
export interface ExpectTarget extends Readable {
  wait(): Promise<unknown>
}

export const DEFAULT_TIMEOUT_MS = 10_000

interface Pending {
  patterns: ExpectPattern[]
  resolve(result: ExpectResult): void
  reject(err: Error): void
  timer: { clear(): void }
}

class Expecter implements OutputSink {
  #buffer = ''
  readonly #decoder = new StringDecoder('utf8')
  #ended = false
  #exited = false
  #pending: Pending | undefined
  readonly #target: ExpectTarget

  constructor(target: ExpectTarget) {
    this.#target = target
    tapOutput(target, this)
  }

  data(chunk: Buffer): void {
    this.#buffer += this.#decoder.write(chunk)
    this.#check()
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#buffer += this.#decoder.end()
    // The output has ended; EOF also means the child is gone.
    this.#target.wait().then(
      () => {
        this.#exited = true
        this.#check()
      },
      () => {},
    )
    this.#check()
  }

  expect(patterns: ExpectPattern[], timeoutMs: number): Promise<ExpectResult> {
    if (this.#pending) {
      return Promise.reject(codedError(Error, 'ERR_INVALID_STATE', 'expect() is already waiting on this child: await it before calling again'))
    }
    return new Promise((resolve, reject) => {
      const timer = startTimer(timeoutMs, () => {
        this.#pending = undefined
        const err = codedError(Error, 'ERR_PTY_TIMEOUT', `expect() timed out after ${timeoutMs} ms waiting for ${this.#awaited(patterns)}; ${this.#unmatched()}`)
        reject(Object.assign(err, { buffer: this.#buffer }))
      })
      this.#pending = { patterns, resolve, reject, timer }
      this.#check()
    })
  }

  #awaited(patterns: ExpectPattern[]): string {
    return patterns.map(describePattern).join(' or ')
  }

  #unmatched(): string {
    if (this.#buffer === '') return 'no unmatched output'
    const shown = tail(this.#buffer)
    return `the unmatched output (${shown.length < this.#buffer.length ? 'last KiB' : 'all of it'}) is:\n${JSON.stringify(shown)}`
  }

  #check(): void {
    const pending = this.#pending
    if (!pending) return
    // The match that starts first wins; on a tie, the pattern listed first (as in pexpect).
    let best: { index: number; start: number; end: number; match: string | RegExpExecArray } | undefined
    pending.patterns.forEach((pattern, index) => {
      if (pattern === EOF) return
      let found: { start: number; end: number; match: string | RegExpExecArray } | undefined
      if (typeof pattern === 'string') {
        const start = this.#buffer.indexOf(pattern)
        if (start >= 0) found = { start, end: start + pattern.length, match: pattern }
      } else {
        const m = pattern.exec(this.#buffer)
        if (m) found = { start: m.index, end: m.index + m[0].length, match: m }
      }
      if (found && (!best || found.start < best.start)) best = { index, ...found }
    })
    if (best) {
      const before = this.#buffer.slice(0, best.start)
      this.#buffer = this.#buffer.slice(best.end)
      return this.#settle(pending, { match: best.match, before, index: best.index })
    }
    if (!this.#ended) return
    const eofIndex = pending.patterns.indexOf(EOF)
    if (eofIndex >= 0) {
      if (!this.#exited) return
      const before = this.#buffer
      this.#buffer = ''
      return this.#settle(pending, { match: EOF, before, index: eofIndex })
    }
    this.#pending = undefined
    pending.timer.clear()
    const err = codedError(Error, 'ERR_PTY_EOF', `expect(): the output ended before ${this.#awaited(pending.patterns)}; ${this.#unmatched()}`)
    pending.reject(Object.assign(err, { buffer: this.#buffer }))
  }

  #settle(pending: Pending, result: ExpectResult): void {
    this.#pending = undefined
    pending.timer.clear()
    pending.resolve(result)
  }
}

const expecters = new WeakMap<ExpectTarget, Expecter>()

/** A RegExp without the flags that make `exec` stateful (`g`, `y`). */
function stateless(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re
}

function checkPattern(value: unknown, name: string): ExpectPattern {
  if (typeof value === 'string' || value === EOF) return value
  if (value instanceof RegExp) return stateless(value)
  throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a string, a RegExp or EOF, got ${describe(value)}`)
}

/** `child.expect(pattern, options)`: see {@link ExpectResult}. */
export function expectOutput(target: ExpectTarget, pattern: unknown, options?: unknown): Promise<ExpectResult> {
  let patterns: ExpectPattern[]
  let timeout: number
  try {
    if (Array.isArray(pattern)) {
      if (pattern.length === 0) throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', 'pattern must not be an empty array')
      patterns = pattern.map((p, i) => checkPattern(p, `pattern[${i}]`))
    } else {
      patterns = [checkPattern(pattern, 'pattern')]
    }
    timeout = checkTimeout(checkOptions(options, 'options').timeout, DEFAULT_TIMEOUT_MS)
  } catch (err) {
    return Promise.reject(err)
  }
  let expecter = expecters.get(target)
  if (!expecter) {
    expecter = new Expecter(target)
    expecters.set(target, expecter)
  }
  return expecter.expect(patterns, timeout)
}
