// What reading a recording gives, whatever its format: the terminal's size and a list of timed
// events; and the error a bad file gives, naming the file and the line.

/** One event: output or input bytes, a resize ("COLSxROWS"), a marker. */
export interface RecordedEvent {
  /** Microseconds since the start. */
  us: number
  code: 'o' | 'i' | 'r' | 'm'
  data: Buffer
}

export interface Recording {
  format: 'typescript' | 'asciicast-v2' | 'asciicast-v3'
  cols: number
  rows: number
  term?: string
  /** Unix time of the start, in seconds. */
  timestamp?: number
  command?: string
  idleTimeLimit?: number
  exitCode?: number
  /** Whether the events carry the recorded pace (a typescript without timing file does not). */
  timed: boolean
  /** The streams present: 'o', 'i' or both. */
  streams: Set<'o' | 'i'>
  events: RecordedEvent[]
  /** The `H` records of a multi-stream timing file, in order. */
  info: Array<[string, string]>
}

/** "FILE: line 3 is not …" reads as a sentence; "FILE: line 3: time … is not …" needs the colon. */
function message(file: string, line: number | undefined, reason: string): string {
  const where = line === undefined ? file : `${file}: line ${line}`
  return /^(is|runs|holds) /.test(reason) ? `${where} ${reason}` : `${where}: ${reason}`
}

/** A file that cannot be read as a recording: `code` ERR_BAD_RECORDING, and where. */
export class RecordingError extends Error {
  readonly code = 'ERR_BAD_RECORDING'
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    reason: string,
  ) {
    super(message(file, line, reason))
    this.name = 'RecordingError'
  }
}

/** The longest time or pause a recording may claim (a week): past that a file is lying. */
export const MAX_SECONDS = 7 * 24 * 3600
/** The largest terminal side a recording may claim. */
export const MAX_SIDE = 1000

/** Checks a terminal size read from a file. */
export function checkSize(file: string, line: number | undefined, cols: unknown, rows: unknown): { cols: number; rows: number } {
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_SIDE
  if (!ok(cols) || !ok(rows)) {
    throw new RecordingError(file, line, `terminal size ${String(cols)}x${String(rows)} is not a size (1 to ${MAX_SIDE} columns and rows)`)
  }
  return { cols, rows }
}

/** Checks a time or a pause, in seconds, and returns it in microseconds. */
export function checkSeconds(file: string, line: number, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_SECONDS) {
    throw new RecordingError(file, line, `${what} ${String(value)} is not a time (0 to ${MAX_SECONDS} seconds)`)
  }
  return Math.round(value * 1e6)
}

