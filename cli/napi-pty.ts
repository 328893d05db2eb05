#!/usr/bin/env node
// The `napi-pty` command: `napi-pty script [options] [file]` records a terminal session and
// `napi-pty replay FILE` plays one back.

import { parseArgs } from 'node:util'

import { record, RecordError, type RecordFormat } from './script'
import { replay } from './replay'

const USAGE = `Usage:
  napi-pty script [options] [file]   record a terminal session (default file: typescript)
  napi-pty replay FILE [--timing T] [--speed X]

script options:
  -a, --append             append to the file
  -c, --command CMD        run CMD through the shell's -c instead of an interactive shell
  -p, --node               use Node's REPL as the shell
  -q, --quiet              print no start/done lines
  -T, --log-timing FILE    write a timing file for scriptreplay
      --format FORMAT      typescript (default) or asciicast (v2, playable by asciinema)
  -f, --flush              write each chunk through to the file before the next
  -h, --help               show this help
`

function fail(message: string, code = 2): never {
  process.stderr.write(`napi-pty: ${message}\n`)
  process.exit(code)
}

async function scriptCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      append: { type: 'boolean', short: 'a' },
      command: { type: 'string', short: 'c' },
      node: { type: 'boolean', short: 'p' },
      quiet: { type: 'boolean', short: 'q' },
      'log-timing': { type: 'string', short: 'T' },
      format: { type: 'string' },
      flush: { type: 'boolean', short: 'f' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (positionals.length > 1) fail(`script takes one file, got ${positionals.length}\n${USAGE}`)
  const format = (values.format ?? 'typescript') as RecordFormat
  if (format !== 'typescript' && format !== 'asciicast') fail(`unknown format: ${values.format}`)
  const shell = values.node ? process.execPath : process.env.SHELL || '/bin/sh'
  const argv =
    values.command !== undefined
      ? [shell, values.node ? '-e' : '-c', values.command]
      : [shell, '-i']
  return record({
    file: positionals[0] ?? (format === 'asciicast' ? 'typescript.cast' : 'typescript'),
    append: values.append,
    argv,
    command: values.command,
    quiet: values.quiet,
    timing: values['log-timing'],
    format,
    flush: values.flush,
  })
}

async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      timing: { type: 'string', short: 't' },
      speed: { type: 'string', short: 's' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (positionals.length !== 1) fail(`replay takes one file\n${USAGE}`)
  const speed = values.speed === undefined ? 1 : Number(values.speed)
  if (!(speed > 0)) fail(`--speed must be a positive number, got ${values.speed}`)
  await replay({ file: positionals[0] as string, timing: values.timing, speed })
  return 0
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'script':
      return scriptCommand(rest)
    case 'replay':
      return replayCommand(rest)
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      return fail(`unknown command: ${command}\n${USAGE}`)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof RecordError) {
      process.stderr.write(`${err.message}\n`)
      process.exitCode = err.exitCode
    } else if (err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      fail(`${err.message}\n${USAGE}`)
    } else {
      process.stderr.write(`napi-pty: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = 1
    }
  },
)

