// Playing a recording back: a typescript with its timing file (classic or multi-stream, as
// util-linux `scriptreplay` does), or an asciicast v2 or v3 file, at the recorded pace or
// `speed` times it. The whole file is read and checked first: a file that is not a recording,
// or a bad one, is refused before anything reaches the terminal. Modes the recording switched
// on (alternate screen, hidden cursor, mouse reporting…) are switched off again when the
// playback ends or is interrupted, if a terminal is watching.

import * as fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

import { RecordingError, type RecordedEvent, type Recording } from './recorded'
import { readRecording } from './recording'

export interface ReplayOptions {
  /** The typescript or asciicast file. */
  file: string
  /** The timing file of a typescript. Without one, the body is written at once. */
  timing?: string
  /** Playback speed factor. Default 1. */
  speed?: number
  /** The longest pause played, in seconds (after the speed applies, as scriptreplay). */
  maxDelay?: number
  /** Which stream to play: out (default), in, or both. */
  stream?: 'out' | 'in' | 'io'
  /** Print what the recording holds instead of playing it. */
  summary?: boolean
  /** Where to write. Default: this process's stdout. */
  output?: NodeJS.WritableStream
  /** Told what the playback does when that is not what was asked (no timing file). */
  notice?: (message: string) => void
}

export { RecordingError as NotARecordingError }

function startsWithBrace(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const first = Buffer.alloc(1)
      return fs.readSync(fd, first, 0, 1, 0) === 1 && first[0] === 0x7b
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return false // readRecording says why
  }
}

function write(output: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    output.write(data, (err) => (err ? reject(err) : resolve()))
  })
}

/** DEC private modes a new terminal has on: cursor keys normal are off, these two are on. */
const ON_BY_DEFAULT = new Set(['7', '25'])

/**
 * The DEC private modes (`CSI ? N h` / `CSI ? N l`) the played bytes left away from a new
 * terminal's defaults: what a terminal would be left in if the playback stopped here.
 */
export class ModeTracker {
  #changed = new Map<string, 'h' | 'l'>()
  #carry = ''

  feed(data: Buffer): void {
    const text = this.#carry + data.toString('latin1')
    const re = /\x1b\[\?([\d;]*)([hl])/g
    for (let m = re.exec(text); m; m = re.exec(text)) {
      for (const mode of (m[1] as string).split(';')) {
        if (mode === '') continue
        const state = m[2] as 'h' | 'l'
        if ((state === 'h') === ON_BY_DEFAULT.has(mode)) this.#changed.delete(mode)
        else this.#changed.set(mode, state)
      }
    }
    // A sequence cut between two writes: keep its start for the next one.
    const cut = text.lastIndexOf('\x1b')
    this.#carry = cut >= 0 && text.length - cut < 32 && /^\x1b(\[\??[\d;]*)?$/.test(text.slice(cut)) ? text.slice(cut) : ''
  }

  /** The bytes that put the changed modes back (and the colours), or '' when none changed. */
  restore(): string {
    if (this.#changed.size === 0) return ''
    let out = '\x1b[0m'
    for (const [mode, state] of this.#changed) out += `\x1b[?${mode}${state === 'h' ? 'l' : 'h'}`
    this.#changed.clear()
    return out
  }
}

function summary(file: string, recording: Recording): string {
  const last = recording.events.at(-1)
  const bytes = (code: string): number => recording.events.filter((e) => e.code === code).reduce((n, e) => n + e.data.length, 0)
  const count = (code: string): number => recording.events.filter((e) => e.code === code).length
  const lines = [
    `file: ${file}`,
    `format: ${recording.format}${recording.timed ? '' : ' (no timing: no pace)'}`,
    `terminal: ${recording.cols}x${recording.rows}${recording.term ? ` ${recording.term}` : ''}`,
  ]
  if (recording.command !== undefined) lines.push(`command: ${recording.command}`)
  lines.push(`duration: ${((last?.us ?? 0) / 1e6).toFixed(6)} s`)
  lines.push(`output: ${count('o')} writes, ${bytes('o')} bytes`)
  if (recording.streams.has('i')) lines.push(`input: ${count('i')} writes, ${bytes('i')} bytes`)
  if (count('r') > 0) lines.push(`resizes: ${count('r')}`)
  if (count('m') > 0) lines.push(`markers: ${count('m')}`)
  if (recording.exitCode !== undefined) lines.push(`exit code: ${recording.exitCode}`)
  for (const [name, value] of recording.info) lines.push(`${name}: ${value}`)
  return `${lines.join('\n')}\n`
}

/** The events of the stream asked for. */
function selectStream(file: string, recording: Recording, stream: 'out' | 'in' | 'io'): RecordedEvent[] {
  const codes = stream === 'in' ? ['i'] : stream === 'io' ? ['o', 'i'] : ['o']
  if (stream !== 'out' && !recording.streams.has('i')) {
    throw new RecordingError(file, undefined, 'holds no input stream (record with -I/-B, or --capture-input for asciicast)')
  }
  return recording.events.filter((event) => codes.includes(event.code))
}

/**
 * Plays a recording; resolves once the last frame is written, with the exit code (0, or
 * 128 + N when signal N interrupted a playback watched on a terminal). Rejects with a
 * {@link RecordingError} (before writing anything) when the file is not a recording we can
 * read through, or its timing file does not fit it.
 */
export async function replay(options: ReplayOptions): Promise<number> {
  const speed = options.speed ?? 1
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`)
  const output = options.output ?? process.stdout
  const isCast = startsWithBrace(options.file)
  if (isCast && options.timing !== undefined) {
    options.notice?.(`${options.file} is an asciicast, which has its own timing: --timing is ignored`)
  }
  const recording = readRecording(options.file, { timing: isCast ? undefined : options.timing, stream: options.stream })
  if (options.summary) {
    await write(output, summary(options.file, recording))
    return 0
  }
  const events = selectStream(options.file, recording, options.stream ?? 'out')
  if (!recording.timed) {
    options.notice?.(`no timing file (--timing): writing the whole session at once; record with -T FILE to replay at its pace`)
  }
  // As scriptreplay: the pause is scaled first, then capped; a cast's idle limit caps it as
  // asciinema's player does.
  const maxDelayMs = options.maxDelay === undefined ? Infinity : options.maxDelay * 1000
  const idleUs = recording.idleTimeLimit === undefined ? Infinity : recording.idleTimeLimit * 1e6

  const tracker = new ModeTracker()
  const watched = (output as { isTTY?: boolean }).isTTY === true
  const stop = new AbortController()
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted ??= signal
    stop.abort()
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  if (watched) for (const signal of signals) process.on(signal, onSignal)
  try {
    let previous = 0
    for (const event of events) {
      const delay = Math.min(Math.min(event.us - previous, idleUs) / 1000 / speed, maxDelayMs)
      previous = event.us
      // Pacing the playback is the point here: the recorded delay, scaled.
      if (delay > 0) await sleep(delay, undefined, { signal: stop.signal }).catch(() => undefined)
      if (stop.signal.aborted) break
      if (watched) tracker.feed(event.data)
      await write(output, event.data)
    }
  } finally {
    if (watched) {
      for (const signal of signals) process.removeListener(signal, onSignal)
      const reset = tracker.restore()
      if (reset !== '') await write(output, reset).catch(() => undefined)
    }
  }
  // Stopped by a signal: the exit code a shell shows for it.
  return interrupted ? 128 + (interrupted === 'SIGINT' ? 2 : interrupted === 'SIGTERM' ? 15 : 1) : 0
}
