// Reading util-linux typescripts with their timing files: classic ("SECONDS BYTES" for one
// stream) and advanced, multi-stream ("O|I SECONDS BYTES", "S SECONDS SIGWINCH ROWS=r COLS=c",
// "H SECONDS NAME VALUE"). With a log of both streams (script -B), input and output take turns
// in one body; with separate logs, the file given is the log of the stream played.

import { MAX_SECONDS, RecordingError, checkSeconds, checkSize, type Recording } from './recorded'

/** The first line of a typescript, as util-linux and our recorder write it. */
export const TYPESCRIPT_HEADER = 'Script started on '
const FOOTER = Buffer.from('\nScript done on ')

type Stream = 'out' | 'in' | 'io'

/** The fields of the header line: TERM="…" COLUMNS="…" and the like. */
function headerFields(header: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const match of header.matchAll(/ (TERM|TTY|COLUMNS|LINES)="([^"]*)"/g)) fields.set(match[1] as string, match[2] as string)
  const command = /\[COMMAND="(.*?)"(?= TERM="| <not executed|\]$)/.exec(header)
  if (command) fields.set('COMMAND', command[1] as string)
  const stamp = /^Script started on (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})([+-]\d{2}:\d{2})?/.exec(header)
  if (stamp) {
    const time = Date.parse(`${stamp[1]}T${stamp[2]}${stamp[3] ?? 'Z'}`)
    if (Number.isFinite(time)) fields.set('TIMESTAMP', String(Math.floor(time / 1000)))
  }
  return fields
}

/** Reads a typescript and, when given, its timing file. */
export function parseTypescript(file: string, data: Buffer, timingFile: string | undefined, timing: Buffer | undefined, stream: Stream): Recording {
  const headerEnd = data.indexOf(0x0a)
  if (headerEnd < 0) throw new RecordingError(file, 1, 'the header line has no end (truncated?)')
  const header = data.subarray(0, headerEnd).toString('utf8')
  const fields = headerFields(header)
  let body = data.subarray(headerEnd + 1)
  const footerAt = body.lastIndexOf(FOOTER)
  if (footerAt >= 0) {
    const footer = body.subarray(footerAt).toString('utf8')
    const code = /\[COMMAND_EXIT_CODE="(\d+)"\]\n?$/.exec(footer)
    if (code) fields.set('EXIT_CODE', code[1] as string)
    body = body.subarray(0, footerAt)
  }
  const recording: Recording = {
    format: 'typescript',
    cols: 80,
    rows: 24,
    timed: timing !== undefined,
    streams: new Set(),
    events: [],
    info: [],
  }
  if (timing === undefined || timingFile === undefined) {
    if (stream === 'io') throw new RecordingError(file, undefined, '--stream io needs the multi-stream timing file (script -B FILE -T TIMING)')
    const code = stream === 'in' ? 'i' : 'o'
    recording.streams.add(code)
    if (body.length > 0) recording.events.push({ us: 0, code, data: body })
  } else {
    readTiming(recording, file, body, timingFile, timing.toString('utf8'), stream, fields)
  }
  const size = checkSize(file, 1, Number(fields.get('COLUMNS') ?? 80), Number(fields.get('LINES') ?? 24))
  recording.cols = size.cols
  recording.rows = size.rows
  recording.term = fields.get('TERM')
  recording.command = fields.get('COMMAND')
  if (fields.has('TIMESTAMP')) recording.timestamp = Number(fields.get('TIMESTAMP'))
  if (fields.has('EXIT_CODE')) recording.exitCode = Number(fields.get('EXIT_CODE'))
  return recording
}

function readTiming(recording: Recording, file: string, body: Buffer, timingFile: string, text: string, stream: Stream, fields: Map<string, string>): void {
  const lines = text.split('\n')
  const first = lines.find((line) => line.trim() !== '') ?? ''
  const advanced = /^[A-Z] /.test(first)
  const records: Array<{ n: number; kind: string; delay: number; rest: string }> = []
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1
    const line = (lines[i] as string).replace(/\r$/, '')
    if (line.trim() === '') continue
    const match = advanced ? /^([A-Z]) (\S+) (.*)$/.exec(line) : /^()(\S+) (\S+)$/.exec(line)
    const delay = match ? Number(match[2]) : NaN
    if (!match || !/^\d+(\.\d+)?$/.test(match[2] as string)) {
      const form = advanced ? '"TYPE SECONDS DATA", as script -m advanced writes' : '"SECONDS BYTES", as script -T writes'
      throw new RecordingError(timingFile, n, `is not a timing entry (${form})`)
    }
    records.push({ n, kind: match[1] || 'O', delay: checkSeconds(timingFile, n, delay, 'delay'), rest: match[3] as string })
  }
  for (const r of records) if (r.kind === 'H') recording.info.push(splitInfo(r.rest))
  const info = new Map(recording.info)
  for (const name of ['COLUMNS', 'LINES', 'TERM', 'COMMAND', 'EXIT_CODE']) {
    const value = info.get(name)
    if (value !== undefined && !fields.has(name)) fields.set(name, value)
  }
  const both = info.has('OUTPUT_LOG') && info.get('OUTPUT_LOG') === info.get('INPUT_LOG')
  const shared = both || (!info.has('OUTPUT_LOG') && !info.has('INPUT_LOG'))
  if (stream === 'io' && !shared) {
    throw new RecordingError(timingFile, undefined, 'input and output were logged to separate files: --stream io needs a log of both (script -B)')
  }
  if (stream === 'io' && !advanced) {
    throw new RecordingError(timingFile, undefined, 'is a classic timing file (one stream): --stream io needs a multi-stream one')
  }
  let offset = 0
  let clock = 0
  for (const r of records) {
    clock += r.delay
    if (clock > MAX_SECONDS * 1e6) throw new RecordingError(timingFile, r.n, `the recording runs past ${MAX_SECONDS} seconds`)
    if (r.kind === 'O' || r.kind === 'I') {
      if (!/^\d+$/.test(r.rest)) throw new RecordingError(timingFile, r.n, `byte count ${JSON.stringify(r.rest)} is not a number`)
      const length = Number(r.rest)
      const code = !advanced ? (stream === 'in' ? 'i' : 'o') : r.kind === 'O' ? 'o' : 'i'
      // A log of one stream holds only that stream's bytes.
      if (!shared && (code === 'o') !== (stream !== 'in')) continue
      if (offset + length > body.length) {
        throw new RecordingError(timingFile, r.n, `runs past the end of ${file} (${offset + length} bytes of ${body.length})`)
      }
      recording.streams.add(code)
      if (length > 0) recording.events.push({ us: clock, code, data: body.subarray(offset, offset + length) })
      offset += length
    } else if (r.kind === 'S') {
      const size = /^SIGWINCH ROWS=(\d+) COLS=(\d+)$/.exec(r.rest)
      if (size) {
        checkSize(timingFile, r.n, Number(size[2]), Number(size[1]))
        recording.events.push({ us: clock, code: 'r', data: Buffer.from(`${size[2]}x${size[1]}`) })
      }
    } else if (r.kind !== 'H') {
      throw new RecordingError(timingFile, r.n, `entry type ${r.kind} is none of I, O, S, H`)
    }
  }
}

function splitInfo(rest: string): [string, string] {
  const space = rest.indexOf(' ')
  return space < 0 ? [rest, ''] : [rest.slice(0, space), rest.slice(space + 1)]
}
