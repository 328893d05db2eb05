#!/usr/bin/env node
// The `napi-pty` command: `napi-pty script [options] [file]` records a terminal session and
// `napi-pty replay FILE` plays one back, `napi-pty convert IN OUT` turns it into another format.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'

import { convert, type ConvertFormat } from './convert'
import { replay } from './replay'
import { record, RecordError, type RecordFormat } from './script'
import { CONVERT_USAGE, REPLAY_USAGE, SCRIPT_USAGE, USAGE, parseSeconds, parseSize } from './usage'

/** The version in the package.json above this file (dist/cli/ when built, cli/ in a checkout). */
function version(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json')
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version
    if (path.dirname(dir) === dir) return 'unknown'
  }
}

/** A wrong command line: the message, then the usage that applies, and exit code 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message)
  }
}

const FORMATS: readonly string[] = ['typescript', 'asciicast', 'asciicast-v2']

function oneOf<T extends string>(value: unknown, allowed: readonly T[], flag: string, usage: string): T | undefined {
  if (value === undefined) return undefined
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${String(value)}`, usage)
  return value as T
}

async function scriptCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, SCRIPT_USAGE, {
    append: { type: 'boolean', short: 'a' },
    command: { type: 'string', short: 'c' },
    return: { type: 'boolean', short: 'e' },
    node: { type: 'boolean', short: 'p' },
    quiet: { type: 'boolean', short: 'q' },
    'log-out': { type: 'string', short: 'O' },
    'log-in': { type: 'string', short: 'I' },
    'log-io': { type: 'string', short: 'B' },
    'log-timing': { type: 'string', short: 'T' },
    'logging-format': { type: 'string', short: 'm' },
    echo: { type: 'string', short: 'E' },
    'output-limit': { type: 'string', short: 'o' },
    'idle-time-limit': { type: 'string', short: 'i' },
    format: { type: 'string' },
    'capture-input': { type: 'boolean' },
    flush: { type: 'boolean', short: 'f' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    process.stdout.write(SCRIPT_USAGE)
    return 0
  }
  if (positionals.length > 1) throw new UsageError(`script takes one file, got ${positionals.length}`, SCRIPT_USAGE)
  const format = oneOf(values.format ?? 'typescript', FORMATS, '--format', SCRIPT_USAGE) as RecordFormat
  const logOut = (values['log-out'] as string | undefined) ?? positionals[0]
  if (values['log-out'] !== undefined && positionals[0] !== undefined && positionals[0] !== values['log-out']) {
    throw new UsageError('--log-out and file name two different output logs', SCRIPT_USAGE)
  }
  const logIn = values['log-in'] as string | undefined
  const logIo = values['log-io'] as string | undefined
  if (logIo !== undefined && (logIn !== undefined || logOut !== undefined)) {
    throw new UsageError('--log-io logs both streams: it does not go with --log-in, --log-out or a file', SCRIPT_USAGE)
  }
  if (format !== 'typescript' && (logIn !== undefined || logIo !== undefined || values['logging-format'] !== undefined || values['log-timing'] !== undefined)) {
    throw new UsageError(`--format ${format} writes one file with its own timing: no --log-in, --log-io, --log-timing or --logging-format`, SCRIPT_USAGE)
  }
  if (format !== 'typescript' && values.append === true) {
    throw new UsageError(`--append adds to typescript logs; --format ${format} would replace the file`, SCRIPT_USAGE)
  }
  const limitText = values['output-limit'] as string | undefined
  const outputLimit = limitText === undefined ? undefined : parseSize(limitText)
  if (limitText !== undefined && (outputLimit === undefined || outputLimit <= 0)) throw new UsageError(`--output-limit must be a size such as 100K, got ${limitText}`, SCRIPT_USAGE)
  const idleText = values['idle-time-limit'] as string | undefined
  const idleTimeLimit = parseSeconds(idleText)
  if (idleText !== undefined && !(idleTimeLimit !== undefined && idleTimeLimit > 0)) {
    throw new UsageError(`--idle-time-limit must be a positive number of seconds, got ${idleText}`, SCRIPT_USAGE)
  }
  const command = values.command as string | undefined
  const shell = values.node ? process.execPath : process.env.SHELL || '/bin/sh'
  const argv = command !== undefined ? [shell, values.node ? '-e' : '-c', command] : [shell, '-i']
  const defaultFile = format === 'typescript' ? 'typescript' : 'typescript.cast'
  return record({
    file: logOut ?? (logIn === undefined && logIo === undefined ? defaultFile : undefined),
    logIn,
    logIo,
    append: values.append === true,
    argv,
    command,
    quiet: values.quiet === true,
    timing: values['log-timing'] as string | undefined,
    loggingFormat: oneOf(values['logging-format'], ['classic', 'advanced'] as const, '--logging-format', SCRIPT_USAGE),
    format,
    echo: oneOf(values.echo, ['auto', 'always', 'never'] as const, '--echo', SCRIPT_USAGE),
    outputLimit,
    idleTimeLimit,
    captureInput: values['capture-input'] === true,
    flush: values.flush === true,
  })
}

async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, REPLAY_USAGE, {
    timing: { type: 'string', short: 't' },
    'log-timing': { type: 'string', short: 'T' },
    speed: { type: 'string', short: 's' },
    maxdelay: { type: 'string', short: 'm' },
    stream: { type: 'string' },
    summary: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    process.stdout.write(REPLAY_USAGE)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError('replay takes one file', REPLAY_USAGE)
  const speed = values.speed === undefined ? 1 : Number(values.speed)
  if (!(speed > 0) || !Number.isFinite(speed)) throw new UsageError(`--speed must be a positive number, got ${String(values.speed)}`, REPLAY_USAGE)
  const maxDelay = parseSeconds(values.maxdelay as string | undefined)
  if (values.maxdelay !== undefined && maxDelay === undefined) {
    throw new UsageError(`--maxdelay must be a number of seconds, got ${String(values.maxdelay)}`, REPLAY_USAGE)
  }
  return replay({
    file: positionals[0] as string,
    timing: (values.timing ?? values['log-timing']) as string | undefined,
    speed,
    maxDelay,
    stream: oneOf(values.stream, ['out', 'in', 'io'] as const, '--stream', REPLAY_USAGE),
    summary: values.summary === true,
    notice: (message) => process.stderr.write(`napi-pty replay: ${message}\n`),
  })
}

async function convertCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, CONVERT_USAGE, {
    timing: { type: 'string', short: 't' },
    'log-timing': { type: 'string', short: 'T' },
    to: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    process.stdout.write(CONVERT_USAGE)
    return 0
  }
  if (positionals.length !== 2) throw new UsageError(`convert takes IN and OUT, got ${positionals.length} file(s)`, CONVERT_USAGE)
  const to = oneOf(values.to, ['typescript', 'asciicast', 'asciicast-v2', 'txt', 'svg'] as const, '--to', CONVERT_USAGE)
  const outputTiming = values['log-timing'] as string | undefined
  await convert({
    input: positionals[0] as string,
    timing: values.timing as string | undefined,
    output: positionals[1] as string,
    outputTiming,
    to: to as ConvertFormat | undefined,
  })
  return 0
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options']

function parse(args: string[], usage: string, options: Options): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args, allowPositionals: true, options })
  } catch (err) {
    throw new UsageError((err as Error).message, usage)
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'script':
      return scriptCommand(rest)
    case 'replay':
      return replayCommand(rest)
    case 'convert':
      return convertCommand(rest)
    case '-V':
    case '--version':
      process.stdout.write(`napi-pty ${version()}\n`)
      return 0
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      throw new UsageError(`unknown command: ${command}`, USAGE)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`napi-pty: ${err.message}\n${err.usage}`)
      process.exitCode = 2
    } else if (err instanceof RecordError) {
      process.stderr.write(`${err.message}\n`)
      process.exitCode = err.exitCode
    } else {
      process.stderr.write(`napi-pty: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = 1
    }
  },
)
