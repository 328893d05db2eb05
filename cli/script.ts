// The recorder: the script(1)-like program from Python's pty documentation, as a real tool.
// It runs a shell on a pseudo-terminal through `spawn`, passes everything through to this
// terminal, and records the child's output in a typescript (util-linux's format), with an
// optional timing file (scriptreplay's classic format) or as an asciicast v2 recording, with
// the terminal's resizes.

import * as fs from 'node:fs'
import { performance } from 'node:perf_hooks'

import * as native from '../lib/native'
import { spawn } from '../lib/spawn'
import type { ExitStatus } from '../lib/types'

export type RecordFormat = 'typescript' | 'asciicast'

export interface RecordOptions {
  /** Where the recording goes. */
  file: string
  /** Append to `file` instead of replacing it (typescript format only). */
  append?: boolean
  /** The program to run: its argv. */
  argv: string[]
  /** The command line to name in the header (`-c`), if one was given. */
  command?: string
  /** Print no start/done lines. */
  quiet?: boolean
  /** Also write a timing file that `scriptreplay` accepts. */
  timing?: string
  format?: RecordFormat
  /** Wait for every chunk to reach the file before passing on the next. */
  flush?: boolean
  /** The fds of this process's terminal side. Default 0 and 1. */
  stdin?: number
  stdout?: number
}

/**
 * An append-only file written asynchronously and strictly in order. A slow disk slows the
 * recording (the hook waits once too much is queued) rather than reordering or dropping it.
 */
class OrderedWriter {
  static readonly HIGH_WATER = 1 << 20
  #fd: number
  #queued = 0
  #tail: Promise<void> = Promise.resolve()
  #error: Error | undefined
  #drained: Array<() => void> = []

  constructor(fd: number) {
    this.#fd = fd
  }

  /** Queues `data`; the returned Promise settles when queueing more is reasonable. */
  write(data: Uint8Array | string, writeThrough: boolean): Promise<void> | undefined {
    if (this.#error) throw this.#error
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    if (bytes.length === 0) return undefined
    this.#queued += bytes.length
    const done = (this.#tail = this.#tail.then(() => this.#writeAll(bytes)))
    if (writeThrough) return done
    if (this.#queued <= OrderedWriter.HIGH_WATER) return undefined
    return new Promise((resolve) => this.#drained.push(resolve))
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#error) return
    try {
      let off = 0
      while (off < bytes.length) {
        off += await new Promise<number>((resolve, reject) =>
          fs.write(this.#fd, bytes, off, bytes.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
        )
      }
    } catch (err) {
      this.#error = err as Error
    }
    this.#queued -= bytes.length
    if (this.#queued <= OrderedWriter.HIGH_WATER || this.#error) {
      for (const resolve of this.#drained.splice(0)) resolve()
    }
    if (this.#error) throw this.#error
  }

  /** Waits for everything queued, then closes the file; rejects with the first write error. */
  async close(): Promise<void> {
    try {
      await this.#tail.catch(() => undefined)
      if (this.#error) throw this.#error
      await new Promise<void>((resolve, reject) => fs.fsync(this.#fd, (err) => (err ? reject(err) : resolve())))
    } finally {
      await new Promise<void>((resolve) => fs.close(this.#fd, () => resolve()))
    }
  }
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

function openFile(path: string, append: boolean): number {
  return fs.openSync(path, append ? 'a' : 'w', 0o644)
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

/**
 * Records a session. Resolves with the command's exit code (the child's, 128 + N for a
 * signal); rejects with a {@link RecordError} when the recording itself failed.
 */
export async function record(options: RecordOptions): Promise<number> {
  const format = options.format ?? 'typescript'
  const stdinFd = options.stdin ?? 0
  const stdoutFd = options.stdout ?? 1
  const interactive = native.isTerminal(stdinFd)
  const sizeFd = native.isTerminal(stdoutFd) ? stdoutFd : interactive ? stdinFd : -1
  const size = sizeFd >= 0 ? native.getWindowSize(sizeFd) : { cols: 80, rows: 24 }
  const term = process.env.TERM ?? 'dumb'

  let out: OrderedWriter
  let timing: OrderedWriter | undefined
  try {
    out = new OrderedWriter(openFile(options.file, options.append === true && format === 'typescript'))
    if (options.timing !== undefined) timing = new OrderedWriter(openFile(options.timing, options.append === true))
  } catch (err) {
    throw new RecordError(`napi-pty script: cannot open ${(err as NodeJS.ErrnoException).path ?? options.file}: ${(err as Error).message}`, 1)
  }
  const say = (line: string): void => {
    if (options.quiet) return
    try {
      fs.writeSync(stdoutFd, line)
    } catch {
      // Whoever read our stdout has gone (EPIPE): the recording itself is what matters.
    }
  }

  const started = new Date()
  if (format === 'asciicast') {
    const header: Record<string, unknown> = {
      version: 2,
      width: size.cols,
      height: size.rows,
      timestamp: Math.floor(started.getTime() / 1000),
      env: { SHELL: process.env.SHELL ?? '/bin/sh', TERM: term },
    }
    if (options.command !== undefined) header.command = options.command
    out.write(`${JSON.stringify(header)}\n`, false)
  } else {
    const fields: string[] = []
    if (options.command !== undefined) fields.push(`COMMAND="${options.command.replace(/\n/g, ' ')}"`)
    if (interactive) {
      fields.push(`TERM="${term}"`, `TTY="${ttyName(stdinFd)}"`, `COLUMNS="${size.cols}"`, `LINES="${size.rows}"`)
    } else {
      fields.push('<not executed on terminal>')
    }
    out.write(`Script started on ${isoTimestamp(started)} [${fields.join(' ')}]\n`, false)
  }
  say(`Script started, file is ${options.file}\n`)

  const origin = performance.now()
  let last = origin
  const decoder = new TextDecoder('utf-8')
  const writeThrough = options.flush === true
  const seconds = (now: number): number => Number(((now - origin) / 1000).toFixed(6))
  const castEvent = (text: string, now: number): string => `${JSON.stringify([seconds(now), 'o', text])}\n`

  const masterRead = (data: Buffer): Promise<void> | undefined => {
    const now = performance.now()
    let pending: Array<Promise<void> | undefined>
    if (format === 'asciicast') {
      const text = decoder.decode(data, { stream: true })
      pending = text === '' ? [] : [out.write(castEvent(text, now), writeThrough)]
    } else {
      pending = [
        out.write(data, writeThrough),
        timing?.write(`${((now - last) / 1000).toFixed(6)} ${data.length}\n`, writeThrough),
      ]
    }
    last = now
    const waits = pending.filter((p): p is Promise<void> => p !== undefined)
    return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined)
  }

  // asciicast v2 records each resize of this terminal as an "r" event ("COLSxROWS"); spawn
  // itself passes the new size on to the child.
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
    try {
      void out.write(`${JSON.stringify([seconds(performance.now()), 'r', dims])}\n`, writeThrough)?.catch(() => undefined)
    } catch {
      // A failed write is reported when the recording is closed.
    }
  }
  const recordResizes = format === 'asciicast' && sizeFd >= 0
  if (recordResizes) process.on('SIGWINCH', onResize)

  let status: ExitStatus | undefined
  let failure: Error | undefined
  try {
    status = await spawn(options.argv, {
      masterRead,
      stdin: stdinFd,
      stdout: stdoutFd,
      // Piped input is not typed: do not echo it into the recording (util-linux does the same).
      echo: interactive ? undefined : false,
      cols: size.cols,
      rows: size.rows,
    })
  } catch (err) {
    failure = err as Error
  } finally {
    if (recordResizes) process.removeListener('SIGWINCH', onResize)
  }

  const code = status ? exitCodeOf(status) : 1
  try {
    if (format === 'asciicast') {
      const rest = decoder.decode()
      if (rest !== '') out.write(castEvent(rest, performance.now()), false)
    } else if (status) {
      out.write(`\nScript done on ${isoTimestamp(new Date())} [COMMAND_EXIT_CODE="${code}"]\n`, false)
    }
  } catch (err) {
    failure ??= err as Error
  }
  const closing = await Promise.allSettled([out.close(), timing?.close()])
  for (const result of closing) {
    if (result.status === 'rejected') failure ??= result.reason as Error
  }
  if (failure) {
    const what = (failure as NodeJS.ErrnoException).code === 'ENOENT' && !status ? 'cannot run' : 'recording failed'
    throw new RecordError(`napi-pty script: ${what}: ${failure.message}`, status ? code || 1 : 1)
  }
  say(`Script done, file is ${options.file}\n`)
  return code
}
