// Playing a recording back: a typescript with its timing file (as util-linux `scriptreplay`
// does), or an asciicast v2 file, at the recorded pace or `speed` times it.

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
}

/** One step of a playback: wait `delay` seconds, then write `data`. */
export interface Frame {
  delay: number
  data: Buffer
}

function isAsciicast(text: Buffer): boolean {
  const firstLine = text.subarray(0, Math.max(0, text.indexOf(0x0a))).toString()
  try {
    const header = JSON.parse(firstLine) as { version?: unknown }
    return header.version === 2
  } catch {
    return false
  }
}

/** The frames of an asciicast v2 recording (output events only). */
export function asciicastFrames(text: string): Frame[] {
  const frames: Frame[] = []
  let previous = 0
  for (const line of text.split('\n').slice(1)) {
    if (line.trim() === '') continue
    const [time, kind, data] = JSON.parse(line) as [number, string, string]
    if (kind !== 'o') continue
    frames.push({ delay: Math.max(0, time - previous), data: Buffer.from(data) })
    previous = time
  }
  return frames
}

/** The frames of a typescript: its body (after the header line), cut as the timing says. */
export function typescriptFrames(typescript: Buffer, timing: string | undefined): Frame[] {
  const bodyStart = typescript.indexOf(0x0a) + 1
  const body = typescript.subarray(bodyStart)
  if (timing === undefined) {
    const footer = body.lastIndexOf('\nScript done on ')
    return [{ delay: 0, data: footer >= 0 ? body.subarray(0, footer) : body }]
  }
  const frames: Frame[] = []
  let offset = 0
  for (const line of timing.split('\n')) {
    const match = /^(\d+(?:\.\d+)?) (\d+)$/.exec(line.trim())
    if (!match) continue
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

/** Plays a recording; resolves once the last frame is written. */
export async function replay(options: ReplayOptions): Promise<void> {
  const speed = options.speed ?? 1
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`)
  const output = options.output ?? process.stdout
  const recording = fs.readFileSync(options.file)
  const frames = isAsciicast(recording)
    ? asciicastFrames(recording.toString())
    : typescriptFrames(recording, options.timing === undefined ? undefined : fs.readFileSync(options.timing, 'utf8'))
  for (const frame of frames) {
    // Pacing the playback is the point here: the recorded delay, scaled.
    if (frame.delay > 0) await sleep((frame.delay * 1000) / speed)
    await write(output, frame.data)
  }
}
