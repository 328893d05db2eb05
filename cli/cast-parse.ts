// Reading asciicast v2 (times since the start) and v3 (times since the previous event, `term`
// in the header, `#` comment lines, an `x` exit event).

import { MAX_SECONDS, RecordingError, checkSeconds, checkSize, type RecordedEvent, type Recording } from './recorded'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseJson(file: string, line: number, text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new RecordingError(file, line, `${what} is not JSON (${(err as Error).message})`)
  }
}

function optionalString(file: string, value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new RecordingError(file, 1, `header field ${name} is not a string`)
  return value
}

/** The header: version, size and the optional fields we carry over. */
function parseHeader(file: string, text: string): Omit<Recording, 'events' | 'exitCode' | 'streams'> {
  const header = parseJson(file, 1, text, 'the header')
  if (!isObject(header)) throw new RecordingError(file, 1, 'the header is not a JSON object')
  const version = header.version
  if (version !== 2 && version !== 3) {
    throw new RecordingError(file, 1, `asciicast version ${JSON.stringify(version) ?? 'undefined'} is not supported (versions 2 and 3 are)`)
  }
  let size: { cols: number; rows: number }
  let term: string | undefined
  const env = isObject(header.env) ? header.env : {}
  if (version === 3) {
    if (!isObject(header.term)) throw new RecordingError(file, 1, 'an asciicast v3 header has a "term" object with "cols" and "rows"')
    size = checkSize(file, 1, header.term.cols, header.term.rows)
    term = optionalString(file, header.term.type, 'term.type')
  } else {
    size = checkSize(file, 1, header.width, header.height)
    term = typeof env.TERM === 'string' ? env.TERM : undefined
  }
  const timestamp = header.timestamp
  if (timestamp !== undefined && timestamp !== null && !(Number.isSafeInteger(timestamp) && (timestamp as number) >= 0)) {
    throw new RecordingError(file, 1, `header field timestamp ${String(timestamp)} is not a Unix time`)
  }
  const limit = header.idle_time_limit
  if (limit !== undefined && limit !== null && !(typeof limit === 'number' && limit > 0 && limit <= MAX_SECONDS)) {
    throw new RecordingError(file, 1, `header field idle_time_limit ${String(limit)} is not a positive number of seconds`)
  }
  return {
    format: version === 3 ? 'asciicast-v3' : 'asciicast-v2',
    ...size,
    term,
    timestamp: (timestamp ?? undefined) as number | undefined,
    command: optionalString(file, header.command, 'command'),
    idleTimeLimit: (limit ?? undefined) as number | undefined,
    timed: true,
    info: [],
  }
}

/** Reads an asciicast v2 or v3 file. */
export function parseCast(file: string, data: Buffer): Recording {
  const text = data.toString('utf8')
  const lines = text.split('\n')
  const recording: Recording = { ...parseHeader(file, lines[0] as string), events: [], streams: new Set() }
  const v3 = recording.format === 'asciicast-v3'
  let clock = 0
  for (let i = 1; i < lines.length; i++) {
    const n = i + 1
    const line = lines[i] as string
    if (line.trim() === '' || (v3 && line.startsWith('#'))) continue
    const event = parseJson(file, n, line, i === lines.length - 1 ? 'the last line (truncated?)' : 'the event')
    if (!Array.isArray(event) || event.length < 3 || typeof event[1] !== 'string' || typeof event[2] !== 'string') {
      throw new RecordingError(file, n, 'is not an asciicast event ([time, code, data])')
    }
    const time = checkSeconds(file, n, event[0], v3 ? 'interval' : 'time')
    if (v3) {
      clock += time
      if (clock > MAX_SECONDS * 1e6) throw new RecordingError(file, n, `the recording runs past ${MAX_SECONDS} seconds`)
    } else {
      if (time < clock) throw new RecordingError(file, n, `time ${event[0] as number} goes back before the previous event's`)
      clock = time
    }
    const code = event[1]
    const payload = event[2] as string
    if (code === 'o' || code === 'i') {
      recording.streams.add(code)
      recording.events.push({ us: clock, code, data: Buffer.from(payload) })
    } else if (code === 'r') {
      const match = /^(\d+)x(\d+)$/.exec(payload)
      if (!match) throw new RecordingError(file, n, `resize ${JSON.stringify(payload)} is not COLSxROWS`)
      checkSize(file, n, Number(match[1]), Number(match[2]))
      recording.events.push({ us: clock, code, data: Buffer.from(payload) })
    } else if (code === 'm') {
      recording.events.push({ us: clock, code, data: Buffer.from(payload) })
    } else if (code === 'x') {
      if (!/^-?\d{1,10}$/.test(payload)) throw new RecordingError(file, n, `exit status ${JSON.stringify(payload)} is not a number`)
      recording.exitCode = Number(payload)
    }
    // Other codes are for other tools: skipped, as asciinema does.
  }
  return recording
}

export type { RecordedEvent }
