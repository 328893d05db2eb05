// Playing a recording back: a typescript with its timing file (as util-linux `scriptreplay`
// does), or an asciicast v2 file, at the recorded pace or `speed` times it. Anything else is
// refused: a file that is not a recording must not be written to the terminal.

import * as fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

export interface ReplayOptions {
  /** The typescript or asciicast file. */
  file: string
  /** The timing file of a typescript. Without one, the body is written at once. */
  timing?: string
  /** Playback speed factor. Default 1. */
  speed?: number
  /** Where to write. Default: this process's stdout. */
  output?: NodeJS.WritableStream
  /** Told what the playback does when that is not what was asked (no timing file). */
  notice?: (message: string) => void
}

/** One step of a playback: wait `delay` seconds, then write `data`. */
interface Frame {
  delay: number
  data: Buffer
}

/** A file that cannot be played back, and why. */
export class NotARecordingError extends Error {}

/** The first line of a typescript, as util-linux and our recorder write it. */
const TYPESCRIPT_HEADER = 'Script started on '

function firstLine(recording: Buffer): string {
  const end = recording.indexOf(0x0a)
  return recording.subarray(0, end < 0 ? recording.length : end).toString()
}

function asciicastHeader(line: string): { version?: unknown } | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    return JSON.parse(line) as { version?: unknown }
  } catch {
    return undefined
  }
}

/** The frames of an asciicast v2 recording (output events; resizes and input are not played). */
function asciicastFrames(file: string, text: string): Frame[] {
  const frames: Frame[] = []
  let previous = 0
  const lines = text.split('\n')
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string
    if (line.trim() === '') continue
    let event: unknown
    try {
      event = JSON.parse(line)
    } catch {
      event = undefined
    }
    if (!Array.isArray(event) || typeof event[0] !== 'number' || typeof event[1] !== 'string' || typeof event[2] !== 'string') {
      throw new NotARecordingError(`${file}: line ${i + 1} is not an asciicast event ([time, code, data])`)
    }
    const [time, code, data] = event as [number, string, string]
    if (code !== 'o') continue
    frames.push({ delay: Math.max(0, time - previous), data: Buffer.from(data) })
    previous = time
  }
  return frames
}

/** The frames of a typescript: its body (after the header line), cut as the timing says. */
function typescriptFrames(typescript: Buffer, timingFile: string | undefined, timing: string | undefined): Frame[] {
  const bodyStart = typescript.indexOf(0x0a) + 1
  const body = typescript.subarray(bodyStart)
  if (timing === undefined) {
    const footer = body.lastIndexOf('\nScript done on ')
    return [{ delay: 0, data: footer >= 0 ? body.subarray(0, footer) : body }]
  }
  const frames: Frame[] = []
  let offset = 0
  const lines = timing.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim()
    if (line === '') continue
    const match = /^(\d+(?:\.\d+)?) (\d+)$/.exec(line)
    if (!match) {
      throw new NotARecordingError(`${timingFile}: line ${i + 1} is not a timing entry ("SECONDS BYTES", as script -T writes)`)
    }
    const length = Number(match[2])
    frames.push({ delay: Number(match[1]), data: body.subarray(offset, offset + length) })
    offset += length
  }
  return frames
}

function write(output: NodeJS.WritableStream, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    output.write(data, (err) => (err ? reject(err) : resolve()))
  })
}

/**
 * Plays a recording; resolves once the last frame is written. Rejects with a
 * {@link NotARecordingError} (before writing anything) when the file is neither a typescript
 * nor an asciicast v2 recording, or the timing file is not one.
 */
export async function replay(options: ReplayOptions): Promise<void> {
  const speed = options.speed ?? 1
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`)
  const output = options.output ?? process.stdout
  const recording = fs.readFileSync(options.file)
  const header = firstLine(recording)
  const cast = asciicastHeader(header)
  let frames: Frame[]
  if (cast !== undefined) {
    if (cast.version !== 2) {
      throw new NotARecordingError(`${options.file}: asciicast version ${JSON.stringify(cast.version)} is not supported (only version 2)`)
    }
    if (options.timing !== undefined) options.notice?.(`${options.file} is an asciicast, which has its own timing: --timing is ignored`)
    frames = asciicastFrames(options.file, recording.toString())
  } else if (header.startsWith(TYPESCRIPT_HEADER)) {
    const timing = options.timing === undefined ? undefined : fs.readFileSync(options.timing, 'utf8')
    frames = typescriptFrames(recording, options.timing, timing)
    if (timing === undefined) {
      options.notice?.(`no timing file (--timing): writing the whole session at once; record with -T FILE to replay at its pace`)
    }
  } else {
    throw new NotARecordingError(
      `${options.file} is not a recording: a typescript starts with "${TYPESCRIPT_HEADER}..." and an asciicast with a JSON header line`,
    )
  }
  for (const frame of frames) {
    // Pacing the playback is the point here: the recorded delay, scaled.
    if (frame.delay > 0) await sleep((frame.delay * 1000) / speed)
    await write(output, frame.data)
  }
}
