// The recorder: the script(1)-like program from Python's pty documentation, as a real tool.
// It runs a shell on a pseudo-terminal through `spawn`, passes everything through to this
// terminal, and records the session as util-linux's `script` does (typescripts of output, input
// or both, with a classic or multi-stream timing file) or as an asciicast (v3, or v2) file.

import * as fs from 'node:fs'
import { performance } from 'node:perf_hooks'

import * as native from '../lib/native'
import { spawn } from '../lib/spawn'
import type { ExitStatus } from '../lib/types'
import { CastSink, LogSink, type Ending, type Queued, type Sink } from './sinks'
import { openLog, type OrderedWriter } from './writer'

export type RecordFormat = 'typescript' | 'asciicast' | 'asciicast-v2'

export interface RecordOptions {
  /** The output log (typescript) or the asciicast file; none when only input is logged. */
  file?: string
  /** util-linux's --log-in: the input log. */
  logIn?: string
  /** util-linux's --log-io: output and input in one log (`file` and `logIn` are then unset). */
  logIo?: string
  /** Append to the logs instead of replacing them (typescript format only). */
  append?: boolean
  /** The program to run: its argv. */
  argv: string[]
  /** The command line to name in the header (`-c`), if one was given. */
  command?: string
  /** Print no start/done lines. */
  quiet?: boolean
  /** Also write a timing file that `scriptreplay` accepts. */
  timing?: string
  /** The timing file's format: classic (one stream) or advanced (multi-stream). Default:
   * advanced when input and output are both logged, else classic (as util-linux). */
  loggingFormat?: 'classic' | 'advanced'
  format?: RecordFormat
  /** The pseudo-terminal's echo: auto (on when input is a terminal's), always, never. */
  echo?: 'auto' | 'always' | 'never'
  /** Stop the child once the logs hold more than this many bytes (util-linux's -o). */
  outputLimit?: number
  /** Shorten every pause longer than this many seconds to it. */
  idleTimeLimit?: number
  /** Record input events too (asciicast). */
  captureInput?: boolean
  /** Wait for every chunk to reach the file before passing on the next. */
  flush?: boolean
  /** The fds of this process's terminal side. Default 0 and 1. */
  stdin?: number
  stdout?: number
}

/** util-linux's timestamp: `2026-11-22 02:40:48+00:00`, in local time. */
function isoTimestamp(date: Date): string {
  const pad = (n: number): string => String(Math.trunc(Math.abs(n))).padStart(2, '0')
  const offset = -date.getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  )
}

function ttyName(fd: number): string {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return 'unknown'
  }
}

/** The exit code a shell would show: the child's, or 128 + the signal's number. */
function exitCodeOf(status: ExitStatus): number {
  if (status.exitCode !== null) return status.exitCode
  return 128 + (status.status & 0x7f)
}

/** A message the command prints and the exit code it ends with. */
export class RecordError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}


interface Terminal {
  interactive: boolean
  stdinFd: number
  size: { cols: number; rows: number }
  term: string
}

/** Opens the files the options name and the sink that writes them. */
function openSink(options: RecordOptions, tty: Terminal, started: Date): Sink {
  const format = options.format ?? 'typescript'
  const flush = options.flush === true
  if (format !== 'typescript') {
    const file = openLog(options.file ?? 'typescript.cast', false)
    const header = {
      version: format === 'asciicast' ? 3 : 2,
      cols: tty.size.cols,
      rows: tty.size.rows,
      term: tty.term,
      timestamp: Math.floor(started.getTime() / 1000),
      idleTimeLimit: options.idleTimeLimit,
      command: options.command,
      env: { SHELL: process.env.SHELL ?? '/bin/sh' },
    } as const
    return new CastSink(file, header, options.captureInput === true)
  }
  const append = options.append === true
  const opened: OrderedWriter[] = []
  const open = (path: string): OrderedWriter => {
    const writer = openLog(path, append)
    opened.push(writer)
    return writer
  }
  try {
    const outPath = options.logIo ?? options.file
    const inPath = options.logIo ?? options.logIn
    const out = outPath === undefined ? undefined : open(outPath)
    const input = options.logIo !== undefined ? out : inPath === undefined ? undefined : open(inPath)
    const timing = options.timing === undefined ? undefined : open(options.timing)
    const fields: string[] = []
    const headers: Array<[string, string]> = [['START_TIME', isoTimestamp(started)]]
    if (options.command !== undefined) fields.push(`COMMAND="${options.command.replace(/\n/g, ' ')}"`)
    if (tty.interactive) {
      const tn = ttyName(tty.stdinFd)
      fields.push(`TERM="${tty.term}"`, `TTY="${tn}"`, `COLUMNS="${tty.size.cols}"`, `LINES="${tty.size.rows}"`)
      headers.push(['TERM', tty.term], ['TTY', tn], ['COLUMNS', String(tty.size.cols)], ['LINES', String(tty.size.rows)])
    } else {
      fields.push('<not executed on terminal>')
    }
    headers.push(['SHELL', process.env.SHELL ?? '/bin/sh'])
    if (options.command !== undefined) headers.push(['COMMAND', options.command.replace(/\n/g, ' ')])
    if (options.timing !== undefined) headers.push(['TIMING_LOG', options.timing])
    if (outPath !== undefined) headers.push(['OUTPUT_LOG', outPath])
    if (inPath !== undefined) headers.push(['INPUT_LOG', inPath])
    const advanced = options.loggingFormat === undefined ? out !== undefined && input !== undefined : options.loggingFormat === 'advanced'
    const header = `Script started on ${isoTimestamp(started)} [${fields.join(' ')}]\n`
    return new LogSink({ out, in: input, timing, advanced, header, headers, flush })
  } catch (err) {
    for (const writer of opened) void writer.close().catch(() => undefined)
    throw err
  }
}

/**
 * Records a session. Resolves with the command's exit code (the child's, 128 + N for a
 * signal, 1 when the output limit stopped it); rejects with a {@link RecordError} when the
 * recording itself failed.
 */
export async function record(options: RecordOptions): Promise<number> {
  const stdinFd = options.stdin ?? 0
  const stdoutFd = options.stdout ?? 1
  const interactive = native.isTerminal(stdinFd)
  const sizeFd = native.isTerminal(stdoutFd) ? stdoutFd : interactive ? stdinFd : -1
  const size = sizeFd >= 0 ? native.getWindowSize(sizeFd) : { cols: 80, rows: 24 }
  const tty: Terminal = { interactive, stdinFd, size, term: process.env.TERM ?? 'dumb' }
  const started = new Date()
  const name = options.logIo ?? options.file ?? options.logIn ?? 'typescript'

  let sink: Sink
  try {
    sink = openSink(options, tty, started)
  } catch (err) {
    throw new RecordError(`napi-pty script: cannot open ${(err as NodeJS.ErrnoException).path ?? name}: ${(err as Error).message}`, 1)
  }
  const say = (line: string): void => {
    if (options.quiet) return
    try {
      fs.writeSync(stdoutFd, line)
    } catch {
      // Whoever read our stdout has gone (EPIPE): the recording itself is what matters.
    }
  }
  say(`Script started, file is ${name}\n`)

  // Times in nanoseconds since the start; a pause longer than the idle limit counts as the limit.
  const origin = performance.now()
  const limitNs = options.idleTimeLimit === undefined ? undefined : BigInt(Math.round(options.idleTimeLimit * 1e9))
  let skipped = 0n
  let lastRaw = 0n
  const stamp = (): bigint => {
    const raw = BigInt(Math.round((performance.now() - origin) * 1e6))
    if (limitNs !== undefined && raw - lastRaw > limitNs) skipped += raw - lastRaw - limitNs
    if (raw > lastRaw) lastRaw = raw
    return raw - skipped
  }

  // util-linux's -o: once the logs hold more than the limit, stop logging and end the child.
  const stop = new AbortController()
  let logged = 0
  let limited = false
  const account = (queued: Queued): Promise<void> | undefined => {
    logged += queued.bytes
    if (options.outputLimit !== undefined && logged > options.outputLimit && !limited) {
      limited = true
      stop.abort()
    }
    return queued.wait
  }
  let failure: Error | undefined
  const guard = (fn: () => Queued): Promise<void> | undefined => {
    if (limited || failure) return undefined
    try {
      return account(fn())?.catch((err: Error) => {
        failure ??= err
      })
    } catch (err) {
      failure ??= err as Error // a write error: reported when the recording is closed
      return undefined
    }
  }

  // Each resize of this terminal is recorded ("r" in asciicast, "S" in a multi-stream timing
  // file); spawn itself passes the new size on to the child.
  let recordedSize = `${size.cols}x${size.rows}`
  const onResize = (): void => {
    let now: { cols: number; rows: number }
    try {
      now = native.getWindowSize(sizeFd)
    } catch {
      return // the terminal is gone: so is anything to record
    }
    const dims = `${now.cols}x${now.rows}`
    if (dims === recordedSize) return
    recordedSize = dims
    void guard(() => sink.resize(stamp(), now.cols, now.rows))
  }
  if (sizeFd >= 0) process.on('SIGWINCH', onResize)

  const echo = options.echo ?? 'auto'
  let status: ExitStatus | undefined
  try {
    status = await spawn(options.argv, {
      masterRead: (data) => guard(() => sink.output(stamp(), data)),
      stdinRead: (data) => guard(() => sink.input(stamp(), data)),
      stdin: stdinFd,
      stdout: stdoutFd,
      // auto: piped input is not typed, so it is not echoed into the recording.
      echo: echo === 'always' ? true : echo === 'never' ? false : interactive ? undefined : false,
      cols: size.cols,
      rows: size.rows,
      signal: stop.signal,
    })
  } catch (err) {
    if (!limited) failure ??= err as Error
  } finally {
    if (sizeFd >= 0) process.removeListener('SIGWINCH', onResize)
  }

  const code = status ? exitCodeOf(status) : 1
  const ending: Ending = status ? { code } : limited ? { limit: true } : undefined
  try {
    sink.finish(stamp(), ending, isoTimestamp(new Date()))
  } catch (err) {
    failure ??= err as Error
  }
  try {
    await sink.close()
  } catch (err) {
    failure ??= err as Error
  }
  if (failure) {
    const what = (failure as NodeJS.ErrnoException).code === 'ENOENT' && !status ? 'cannot run' : 'recording failed'
    throw new RecordError(`napi-pty script: ${what}: ${failure.message}`, status ? code || 1 : 1)
  }
  if (limited) {
    say(`Script terminated, max output files size ${options.outputLimit} exceeded.\n`)
    return 1
  }
  say(`Script done, file is ${name}\n`)
  return code
}
