// Converting a recording: between typescript (+ timing), asciicast v2 and v3, and to the final
// screen as text (.txt) or as a picture (.svg). The input is read and checked whole first; the
// output is written to a temporary file beside it and renamed, so a failure leaves no half file.

import * as fs from 'node:fs'
import * as path from 'node:path'

import { CastEncoder, castHeaderLine } from './cast-encode'
import type { Recording } from './recorded'
import { readRecording } from './recording'
import type { ScreenStep } from './screen'
import { seconds6 } from './sinks'

export type ConvertFormat = 'typescript' | 'asciicast' | 'asciicast-v2' | 'txt' | 'svg'

export interface ConvertOptions {
  input: string
  /** The input typescript's timing file. */
  timing?: string
  output: string
  /** Where to write the output typescript's timing file. */
  outputTiming?: string
  /** The output format; default from the output's name. */
  to?: ConvertFormat
}

/** The format a file name asks for. */
export function formatOf(file: string): ConvertFormat {
  const ext = path.extname(file).toLowerCase()
  return ext === '.cast' ? 'asciicast' : ext === '.txt' ? 'txt' : ext === '.svg' ? 'svg' : 'typescript'
}

/** util-linux's timestamp for a Unix time, in UTC. */
function utcStamp(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')}+00:00`
}

function toTypescript(recording: Recording, withTiming: boolean): { log: Buffer; timing: string } {
  const fields: string[] = []
  if (recording.command !== undefined) fields.push(`COMMAND="${recording.command}"`)
  if (recording.term !== undefined) fields.push(`TERM="${recording.term}"`)
  fields.push(`COLUMNS="${recording.cols}"`, `LINES="${recording.rows}"`)
  const started = recording.timestamp ?? Math.floor(Date.now() / 1000)
  const parts: Buffer[] = [Buffer.from(`Script started on ${utcStamp(started)} [${fields.join(' ')}]\n`)]
  const timing: string[] = []
  let previous = 0
  for (const event of recording.events) {
    if (event.code !== 'o') continue
    parts.push(event.data)
    if (withTiming) timing.push(`${seconds6(BigInt(event.us - previous) * 1000n)} ${event.data.length}\n`)
    previous = event.us
  }
  const end = started + Math.floor(previous / 1e6)
  const ending = recording.exitCode === undefined ? '' : `COMMAND_EXIT_CODE="${recording.exitCode}"`
  if (ending !== '') parts.push(Buffer.from(`\nScript done on ${utcStamp(end)} [${ending}]\n`))
  return { log: Buffer.concat(parts), timing: timing.join('') }
}

function toCast(recording: Recording, version: 2 | 3): string {
  const out = [
    castHeaderLine({
      version,
      cols: recording.cols,
      rows: recording.rows,
      term: recording.term,
      timestamp: recording.timestamp,
      idleTimeLimit: recording.idleTimeLimit,
      command: recording.command,
    }),
  ]
  const encoder = new CastEncoder(version)
  const decoders = { o: new TextDecoder(), i: new TextDecoder() }
  let last = 0
  for (const event of recording.events) {
    last = event.us
    const t = BigInt(event.us) * 1000n
    const text = event.code === 'o' || event.code === 'i' ? decoders[event.code].decode(event.data, { stream: true }) : event.data.toString()
    if (text === '' && (event.code === 'o' || event.code === 'i')) continue
    out.push(encoder.event(t, event.code, text))
  }
  const rest = decoders.o.decode()
  if (rest !== '') out.push(encoder.event(BigInt(last) * 1000n, 'o', rest))
  if (version === 3 && recording.exitCode !== undefined) out.push(encoder.event(BigInt(last) * 1000n, 'x', String(recording.exitCode)))
  return out.join('')
}

/** The steps that draw a recording's screen: its output and its resizes, in order. */
export function* screenSteps(recording: Recording): Generator<ScreenStep> {
  for (const event of recording.events) {
    if (event.code === 'o') yield { write: event.data }
    else if (event.code === 'r') {
      const [cols, rows] = event.data.toString().split('x').map(Number)
      yield { resize: { cols: cols as number, rows: rows as number } }
    }
  }
}

function writeAtomically(file: string, data: string | Buffer): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  try {
    fs.writeFileSync(temp, data, { mode: 0o644 })
    fs.renameSync(temp, file)
  } catch (err) {
    fs.rmSync(temp, { force: true })
    throw err
  }
}

/** Converts one recording; resolves once the output is written. */
export async function convert(options: ConvertOptions): Promise<void> {
  const to = options.to ?? formatOf(options.output)
  if (options.outputTiming !== undefined && to !== 'typescript') {
    throw new RangeError(`a timing file goes with a typescript output, not ${to}`)
  }
  const recording = readRecording(options.input, { timing: options.timing })
  if (to === 'txt' || to === 'svg') {
    // The terminal emulator is loaded only here: recording and replaying do without it.
    const { finalScreen, screenSvg, screenText } = await import('./screen')
    const screen = await finalScreen(recording.cols, recording.rows, screenSteps(recording))
    writeAtomically(options.output, to === 'txt' ? screenText(screen) : screenSvg(screen))
  } else if (to === 'typescript') {
    const { log, timing } = toTypescript(recording, options.outputTiming !== undefined)
    if (options.outputTiming !== undefined) writeAtomically(options.outputTiming, timing)
    writeAtomically(options.output, log)
  } else {
    writeAtomically(options.output, toCast(recording, to === 'asciicast' ? 3 : 2))
  }
}
