// Argument validation: every bad value becomes a TypeError or RangeError before anything
// native runs.

import * as os from 'node:os'

import { codedError } from './errors'
import type { ExitStatus, WindowSize } from './types'

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`
  return `type ${typeof value}`
}

export function checkString(value: unknown, name: string): string {
  if (typeof value !== 'string') {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a string, got ${describe(value)}`)
  }
  if (value.includes('\0')) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `${name} must not contain NUL bytes`)
  }
  return value
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a boolean, got ${describe(value)}`)
  }
  return value
}

export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(value)}`)
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw codedError(RangeError, 'ERR_OUT_OF_RANGE', `${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
  return value
}

export function checkOptions(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be an object, got ${describe(value)}`)
  }
  return value as Record<string, unknown>
}

/** What a key that some other API takes most likely meant here. */
const KEY_HINTS: Record<string, string> = {
  name: "the terminal type is 'term'",
  columns: "use 'cols'",
  width: "use 'cols'",
  lines: "use 'rows'",
  height: "use 'rows'",
  environment: "use 'env'",
  encoding: 'output is Buffers; use setEncoding() on the stream, or decode the chunks yourself',
  timeout: "use 'signal: AbortSignal.timeout(ms)'",
  shell: "argv runs without a shell; pass ['sh', '-c', line] for a shell line",
  args: 'pass argv as one array, the first argument',
  argv: 'pass argv as one array, the first argument',
  stdio: 'the terminal is the child\'s stdin, stdout and stderr',
}

/** How many single-character edits turn `a` into `b` (for "did you mean"). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)))
    }
    prev = row
  }
  return prev[b.length]
}

/** Rejects the keys of an options object that `fn` does not know, with a hint where one is
 * likely: an option silently ignored is a bug that shows up far from its cause. */
export function checkKeys(options: Record<string, unknown>, known: readonly string[], fn: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue
    let hint = Object.hasOwn(KEY_HINTS, key) ? KEY_HINTS[key] : undefined
    if (hint === undefined) {
      const lower = key.toLowerCase()
      let best = Infinity
      for (const k of known) {
        const distance = editDistance(lower, k.toLowerCase())
        if (distance < best && distance <= Math.min(2, k.length - 2)) {
          best = distance
          hint = `did you mean '${k}'?`
        }
      }
    }
    const list = known.map((k) => `'${k}'`).join(', ')
    throw codedError(
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      `${fn}: unknown option '${key}'${hint === undefined ? '' : ` (${hint})`}; the options are ${list}`,
    )
  }
}

export function checkAbortSignal(value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `signal must be an AbortSignal, got ${describe(value)}`)
  }
  return value
}

export const MAX_CELLS = 65535
export const MAX_ID = 0xfffffffe

export function checkSize(options: Record<string, unknown>): WindowSize {
  return {
    cols: options.cols === undefined ? 80 : checkInteger(options.cols, 'cols', 1, MAX_CELLS),
    rows: options.rows === undefined ? 24 : checkInteger(options.rows, 'rows', 1, MAX_CELLS),
  }
}

export function checkFd(fd: unknown): number {
  return checkInteger(fd, 'fd', 0, 0x7fffffff)
}

/** Rejects a `child_process`-style call, `fork('sleep', ['1'])`, with what to write instead. */
export function checkNotArgs(argv: unknown, second: unknown, fn: string): void {
  if (!Array.isArray(second)) return
  const words: unknown[] = [...(typeof argv === 'string' ? [argv] : Array.isArray(argv) ? argv : []), ...second]
  const quoted = words.map((w) => (typeof w !== 'string' ? undefined : w.includes("'") ? JSON.stringify(w) : `'${w}'`))
  const shown = quoted.includes(undefined) ? '' : `: ${fn}([${quoted.join(', ')}])`
  throw codedError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `${fn} takes argv as one array, not a program and its arguments apart; pass argv as one array${shown}`,
  )
}

export function checkArgv(argv: unknown): string[] {
  const list = typeof argv === 'string' ? [argv] : argv
  if (!Array.isArray(list)) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `argv must be a string or an array of strings, got ${describe(argv)}`)
  }
  if (list.length === 0) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', 'argv must not be empty')
  }
  // An index loop, not map(): map() skips the holes of a sparse array.
  const out: string[] = []
  for (let i = 0; i < list.length; i++) out.push(checkString(list[i], `argv[${i}]`))
  if (out[0] === '') {
    throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', 'argv[0] must not be empty')
  }
  return out
}

/** Validates an environment object into `NAME=value` entries (`TERM` is settled natively). */
export function checkEnv(env: unknown): string[] {
  if (env === null || typeof env !== 'object' || Array.isArray(env)) {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `env must be an object, got ${describe(env)}`)
  }
  const entries: string[] = []
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue
    checkString(key, 'env key')
    if (key === '' || key.includes('=')) {
      throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `env key ${JSON.stringify(key)} must be non-empty and contain no '='`)
    }
    checkString(value, `env.${key}`)
    entries.push(`${key}=${value as string}`)
  }
  return entries
}

export const signalNames = new Map<number, NodeJS.Signals>()
for (const [name, num] of Object.entries(os.constants.signals)) {
  if (!signalNames.has(num)) signalNames.set(num, name as NodeJS.Signals)
}

export function signalNumber(signal: unknown): number {
  if (typeof signal === 'number' && Number.isInteger(signal) && (signal === 0 || signalNames.has(signal))) {
    return signal
  }
  if (typeof signal === 'string') {
    const num = (os.constants.signals as Record<string, number | undefined>)[signal]
    if (num !== undefined) return num
  }
  throw codedError(TypeError, 'ERR_UNKNOWN_SIGNAL', `Unknown signal: ${typeof signal === 'string' || typeof signal === 'number' ? signal : describe(signal)}`)
}

export function decodeStatus(status: number): ExitStatus {
  // -1: the status was gone (the kernel reaped the child because SIGCHLD is ignored, or some
  // other code's waitpid(-1) took it). Known to have ended, not how.
  if (status === -1) return { exitCode: null, signal: null, status }
  const sig = status & 0x7f
  if (sig === 0) return { exitCode: (status >> 8) & 0xff, signal: null, status }
  return { exitCode: null, signal: signalNames.get(sig) ?? (`SIG${sig}` as NodeJS.Signals), status }
}
