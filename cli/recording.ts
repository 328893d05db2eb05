// Reading a recording into memory, whatever its format. Reading checks everything before
// anything is played or written, so that a bad file gives one error naming the file and line,
// not half a playback.

import * as fs from 'node:fs'

import { parseCast } from './cast-parse'
import { RecordingError, type Recording } from './recorded'
import { parseTypescript, TYPESCRIPT_HEADER } from './typescript-parse'

export interface ReadOptions {
  /** The typescript's timing file. */
  timing?: string
  /** Which stream of a multi-stream typescript to read. Default out. */
  stream?: 'out' | 'in' | 'io'
}

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new RecordingError(file, undefined, `cannot read: ${e.code === 'EISDIR' ? 'it is a directory' : e.message}`)
  }
}

/** Reads a recording of any format we know, checking it through. */
export function readRecording(file: string, options: ReadOptions = {}): Recording {
  const data = readFile(file)
  if (data[0] === 0x7b /* { */) {
    if (options.timing !== undefined) throw new RecordingError(options.timing, undefined, `${file} is an asciicast, which has its own timing`)
    return parseCast(file, data)
  }
  if (data.subarray(0, TYPESCRIPT_HEADER.length).toString('latin1') === TYPESCRIPT_HEADER) {
    const timing = options.timing === undefined ? undefined : readFile(options.timing)
    return parseTypescript(file, data, options.timing, timing, options.stream ?? 'out')
  }
  throw new RecordingError(
    file,
    undefined,
    `is not a recording: a typescript starts with "${TYPESCRIPT_HEADER}..." and an asciicast with a JSON header line`,
  )
}
