// Where a recording goes: util-linux's logs (typescripts of output, input or both, and a classic
// or multi-stream timing file) or an asciicast file. The recorder calls each sink with events
// stamped in nanoseconds since the start (pauses already shortened to the idle limit).

import { CastEncoder, castHeaderLine, type CastHeader } from './cast-encode'
import type { OrderedWriter } from './writer'

/** How a session ended, for the footer: an exit code, or the output limit reached. */
export type Ending = { code: number } | { limit: true } | undefined

export interface Sink {
  /** Each returns the bytes it queued and, when the writers want the recorder to wait, a Promise. */
  output(t: bigint, data: Buffer): Queued
  input(t: bigint, data: Buffer): Queued
  resize(t: bigint, cols: number, rows: number): Queued
  finish(t: bigint, ending: Ending, done: string): void
  close(): Promise<void>
}

export interface Queued {
  bytes: number
  wait?: Promise<void>
}

function queue(writer: OrderedWriter, data: string | Buffer, through: boolean, into: Queued): void {
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length
  const wait = writer.write(data, through)
  into.bytes += bytes
  if (wait) into.wait = into.wait ? Promise.all([into.wait, wait]).then(() => undefined) : wait
}

/** Seconds with six decimals, as util-linux writes its delays. */
export function seconds6(ns: bigint): string {
  const micros = (ns + 500n) / 1000n
  return `${micros / 1_000_000n}.${String(micros % 1_000_000n).padStart(6, '0')}`
}

export interface LogOptions {
  out?: OrderedWriter
  in?: OrderedWriter
  timing?: OrderedWriter
  advanced: boolean
  /** The header line's text, `Script started on … […]` with its newline. */
  header: string
  /** The `H` records an advanced timing file starts with: [name, value]. */
  headers: Array<[string, string]>
  flush: boolean
}

/** util-linux's logs: the typescript(s) and the timing file. */
export class LogSink implements Sink {
  #o: LogOptions
  #last = 0n

  constructor(options: LogOptions) {
    this.#o = options
    const q: Queued = { bytes: 0 }
    for (const file of this.#files()) queue(file, options.header, false, q)
    if (options.timing && options.advanced) {
      for (const [name, value] of options.headers) queue(options.timing, `H 0.000000 ${name} ${value}\n`, false, q)
    }
  }

  #files(): OrderedWriter[] {
    const files = [this.#o.out, this.#o.in].filter((f): f is OrderedWriter => f !== undefined)
    return files.length === 2 && files[0] === files[1] ? [files[0] as OrderedWriter] : files
  }

  #delay(t: bigint): string {
    const d = seconds6(t > this.#last ? t - this.#last : 0n)
    if (t > this.#last) this.#last = t
    return d
  }

  #stream(kind: 'O' | 'I', t: bigint, data: Buffer): Queued {
    const q: Queued = { bytes: 0 }
    const log = kind === 'O' ? this.#o.out : this.#o.in
    if (!log || data.length === 0) return q
    queue(log, data, this.#o.flush, q)
    const timing = this.#o.timing
    if (timing) {
      // A classic timing file follows one stream: output when it is logged, else input.
      const classicStream = this.#o.out ? 'O' : 'I'
      if (this.#o.advanced) queue(timing, `${kind} ${this.#delay(t)} ${data.length}\n`, this.#o.flush, q)
      else if (kind === classicStream) queue(timing, `${this.#delay(t)} ${data.length}\n`, this.#o.flush, q)
    }
    return q
  }

  output(t: bigint, data: Buffer): Queued {
    return this.#stream('O', t, data)
  }

  input(t: bigint, data: Buffer): Queued {
    return this.#stream('I', t, data)
  }

  resize(t: bigint, cols: number, rows: number): Queued {
    const q: Queued = { bytes: 0 }
    if (this.#o.timing && this.#o.advanced) {
      queue(this.#o.timing, `S ${this.#delay(t)} SIGWINCH ROWS=${rows} COLS=${cols}\n`, this.#o.flush, q)
    }
    return q
  }

  finish(t: bigint, ending: Ending, done: string): void {
    if (ending === undefined) return
    const what = 'code' in ending ? `COMMAND_EXIT_CODE="${ending.code}"` : '<max output size exceeded>'
    const q: Queued = { bytes: 0 }
    for (const file of this.#files()) queue(file, `\nScript done on ${done} [${what}]\n`, false, q)
    if (this.#o.timing && this.#o.advanced) {
      queue(this.#o.timing, `H 0.000000 DURATION ${seconds6(t)}\n`, false, q)
      if ('code' in ending) queue(this.#o.timing, `H 0.000000 EXIT_CODE ${ending.code}\n`, false, q)
    }
  }

  async close(): Promise<void> {
    const writers = new Set([this.#o.out, this.#o.in, this.#o.timing].filter((w): w is OrderedWriter => w !== undefined))
    const results = await Promise.allSettled([...writers].map((w) => w.close()))
    for (const result of results) if (result.status === 'rejected') throw result.reason
  }
}

/** An asciicast recording, written event by event so that a killed recorder leaves a playable file. */
export class CastSink implements Sink {
  #file: OrderedWriter
  #encoder: CastEncoder
  #decoder = new TextDecoder('utf-8')
  #inputDecoder = new TextDecoder('utf-8')
  #captureInput: boolean
  #last = 0n

  constructor(file: OrderedWriter, header: CastHeader, captureInput: boolean) {
    this.#file = file
    this.#encoder = new CastEncoder(header.version)
    this.#captureInput = captureInput
    file.writeNow(castHeaderLine(header))
  }

  #event(t: bigint, code: 'o' | 'i' | 'r' | 'x', text: string): Queued {
    const q: Queued = { bytes: 0 }
    if (t > this.#last) this.#last = t
    const line = this.#encoder.event(this.#last, code, text)
    // Written before the output is passed on: a killed recorder leaves every event it showed.
    this.#file.writeNow(line)
    q.bytes += Buffer.byteLength(line)
    return q
  }

  output(t: bigint, data: Buffer): Queued {
    const text = this.#decoder.decode(data, { stream: true })
    return text === '' ? { bytes: 0 } : this.#event(t, 'o', text)
  }

  input(t: bigint, data: Buffer): Queued {
    if (!this.#captureInput) return { bytes: 0 }
    const text = this.#inputDecoder.decode(data, { stream: true })
    return text === '' ? { bytes: 0 } : this.#event(t, 'i', text)
  }

  resize(t: bigint, cols: number, rows: number): Queued {
    return this.#event(t, 'r', `${cols}x${rows}`)
  }

  finish(t: bigint, ending: Ending): void {
    const rest = this.#decoder.decode()
    if (rest !== '') this.#event(t, 'o', rest)
    // v2 has no exit event; v3 records the exit status (asciinema: 128 + N for a signal).
    if (this.#encoder.version === 3 && ending !== undefined) this.#event(t, 'x', String('code' in ending ? ending.code : 1))
  }

  close(): Promise<void> {
    return this.#file.close()
  }
}
