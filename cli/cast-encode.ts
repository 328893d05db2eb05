// Writing asciicast: the header line and one line per event, for version 2 (times since the
// start, in seconds with microseconds) and version 3 (times since the previous event, in
// milliseconds, rounded so that the rounding errors do not add up over a long recording, as
// asciinema 3 writes them).

/** The kinds of asciicast events we write: output, input, resize, marker, exit. */
export type EventCode = 'o' | 'i' | 'r' | 'm' | 'x'

export interface CastHeader {
  version: 2 | 3
  cols: number
  rows: number
  /** The terminal type ($TERM). */
  term?: string
  /** Unix time of the start, in seconds. */
  timestamp?: number
  idleTimeLimit?: number
  command?: string
  title?: string
  env?: Record<string, string>
}

/** The header line (with its newline). */
export function castHeaderLine(header: CastHeader): string {
  const out: Record<string, unknown> = { version: header.version }
  if (header.version === 3) {
    const term: Record<string, unknown> = { cols: header.cols, rows: header.rows }
    if (header.term !== undefined) term.type = header.term
    out.term = term
  } else {
    out.width = header.cols
    out.height = header.rows
  }
  if (header.timestamp !== undefined) out.timestamp = header.timestamp
  if (header.idleTimeLimit !== undefined) out.idle_time_limit = header.idleTimeLimit
  if (header.command !== undefined) out.command = header.command
  if (header.title !== undefined) out.title = header.title
  const env = { ...header.env }
  if (header.version === 2 && header.term !== undefined) env.TERM = header.term
  if (Object.keys(env).length > 0) out.env = env
  return `${JSON.stringify(out)}\n`
}

/**
 * Turns events with absolute times (in nanoseconds since the start, never decreasing) into
 * event lines of one version.
 */
export class CastEncoder {
  readonly version: 2 | 3
  #previous = 0n
  /** What the rounding so far has added (v3): carried into the next interval. */
  #error = 0n

  constructor(version: 2 | 3) {
    this.version = version
  }

  /** The line (with its newline) for an event at `timeNs`. */
  event(timeNs: bigint, code: EventCode, data: string): string {
    const time = this.version === 3 ? this.#interval(timeNs) : this.#absolute(timeNs)
    return `[${time}, ${JSON.stringify(code)}, ${JSON.stringify(data)}]\n`
  }

  #absolute(timeNs: bigint): string {
    const micros = (timeNs + 500n) / 1000n
    return `${micros / 1_000_000n}.${String(micros % 1_000_000n).padStart(6, '0')}`
  }

  #interval(timeNs: bigint): string {
    const MS = 1_000_000n
    const dt = timeNs > this.#previous ? timeNs - this.#previous : 0n
    this.#previous = timeNs > this.#previous ? timeNs : this.#previous
    const corrected = dt + this.#error
    const steps = corrected + MS / 2n >= 0n ? (corrected + MS / 2n) / MS : 0n
    this.#error = corrected - steps * MS
    return `${steps / 1000n}.${String(steps % 1000n).padStart(3, '0')}`
  }
}
