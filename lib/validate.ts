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
