#!/usr/bin/env node
// The `napi-pty` command: `napi-pty script [options] [file]` records a terminal session and
// `napi-pty replay FILE` plays one back.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'

import { record, RecordError, type RecordFormat } from './script'
import { replay } from './replay'

const USAGE = `Usage:
  napi-pty script [options] [file]   record a terminal session (default file: typescript)
  napi-pty replay [options] FILE     play a recording back
  napi-pty --version                 print the version

napi-pty COMMAND --help shows a command's options.
`

const SCRIPT_USAGE = `Usage: napi-pty script [options] [file]

Runs a shell (or -c CMD) on a new terminal and records everything it prints in file
(default: typescript, or typescript.cast with --format asciicast).

Options:
  -a, --append             append to the file
  -c, --command CMD        run CMD through the shell's -c instead of an interactive shell
  -e, --return             exit with the child's exit code (always the case; accepted for util-linux's script)
  -p, --node               use Node's REPL as the shell
  -q, --quiet              print no start/done lines
  -T, --log-timing FILE    write a timing file for replay (and util-linux's scriptreplay)
      --format FORMAT      typescript (default) or asciicast (v2, playable by asciinema)
  -f, --flush              write each chunk through to the file before the next
  -h, --help               show this help
`

const REPLAY_USAGE = `Usage: napi-pty replay [options] FILE

Plays back a typescript (with the timing file that -T wrote, at the recorded pace; without one
the whole session at once) or an asciicast v2 recording.

Options:
  -t, --timing FILE        the typescript's timing file
  -s, --speed X            play X times as fast (default 1)
  -h, --help               show this help
`

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

async function scriptCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, SCRIPT_USAGE, {
    append: { type: 'boolean', short: 'a' },
    command: { type: 'string', short: 'c' },
    return: { type: 'boolean', short: 'e' },
    node: { type: 'boolean', short: 'p' },
    quiet: { type: 'boolean', short: 'q' },
    'log-timing': { type: 'string', short: 'T' },
    format: { type: 'string' },
    flush: { type: 'boolean', short: 'f' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    process.stdout.write(SCRIPT_USAGE)
    return 0
  }
  if (positionals.length > 1) throw new UsageError(`script takes one file, got ${positionals.length}`, SCRIPT_USAGE)
  const format = (values.format ?? 'typescript') as RecordFormat
  if (format !== 'typescript' && format !== 'asciicast') throw new UsageError(`unknown format: ${String(values.format)}`, SCRIPT_USAGE)
  const command = values.command as string | undefined
  const shell = values.node ? process.execPath : process.env.SHELL || '/bin/sh'
  const argv = command !== undefined ? [shell, values.node ? '-e' : '-c', command] : [shell, '-i']
  return record({
    file: positionals[0] ?? (format === 'asciicast' ? 'typescript.cast' : 'typescript'),
    append: values.append === true,
    argv,
    command,
    quiet: values.quiet === true,
    timing: values['log-timing'] as string | undefined,
    format,
    flush: values.flush === true,
  })
}

async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, REPLAY_USAGE, {
    timing: { type: 'string', short: 't' },
    speed: { type: 'string', short: 's' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    process.stdout.write(REPLAY_USAGE)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError('replay takes one file', REPLAY_USAGE)
  const speed = values.speed === undefined ? 1 : Number(values.speed)
  if (!(speed > 0) || !Number.isFinite(speed)) throw new UsageError(`--speed must be a positive number, got ${String(values.speed)}`, REPLAY_USAGE)
  const timing = values.timing as string | undefined
  await replay({
    file: positionals[0] as string,
    timing,
    speed,
    notice: (message) => process.stderr.write(`napi-pty replay: ${message}\n`),
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
