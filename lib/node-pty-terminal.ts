// UnixTerminal: node-pty's IPty over a PtyProcess. Started synchronously, as node-pty's
// `spawn` is: the native fork returns once the child has exec'd (or failed to).

import { EventEmitter } from 'node:events'
import { StringDecoder } from 'node:string_decoder'

import * as native from './native'
import { callNative, codedError } from './errors'
import { Kind } from './events'
import { sink } from './registry'
import { PtyPairTerminal } from './node-pty-open'
import { checkCells, checkEncoding, checkOptionType, eventOf } from './node-pty-options'
import { foregroundProcess } from './node-pty-process'
import type { IEvent, IExitEvent, IPixelSize, IPty, IPtyForkOptions, IPtyOpenOptions, IWindowsPtyForkOptions } from './node-pty-types'
import { PtyProcess } from './pty-process'
import { checkEnv, checkInteger, checkString, describe, MAX_CELLS, MAX_ID, signalNumber } from './validate'

/** Variables that describe the terminal this process runs in, not the child's: left out of
 * the child's environment when it is `process.env`, as node-pty does. */
const OUTER_TERMINAL_VARIABLES = ['TMUX', 'TMUX_PANE', 'STY', 'WINDOW', 'WINDOWID', 'TERMCAP', 'COLUMNS', 'LINES']

/** A child on a pseudo-terminal, with node-pty's API. Events: `data`, `exit` (exitCode,
 * signal), `close` (the output has ended). */
export class UnixTerminal extends EventEmitter implements IPty {
  readonly #child: PtyProcess
  readonly #native: native.NativePty
  readonly #file: string
  readonly #encoding: BufferEncoding | null
  readonly #decoder: StringDecoder | undefined
  #cols: number
  #rows: number
  #exited = false
  #paused = false
  /** node-pty's names for these, which its own tests read. */
  protected readonly _flowControlPause: string
  protected readonly _flowControlResume: string
  handleFlowControl: boolean
  readonly onData: IEvent<string> = eventOf(this, 'data')
  readonly onExit: IEvent<IExitEvent> = (listener) => {
    const call = (exitCode: number, signal: number): void => void listener({ exitCode, signal })
    this.on('exit', call)
    return { dispose: () => void this.removeListener('exit', call) }
  }

  constructor(file?: string, args?: string[] | string, opt?: IPtyForkOptions | IWindowsPtyForkOptions) {
    super()
    if (typeof args === 'string') {
      throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'args as a string (a Windows command line) is not supported on Unix: pass an array')
    }
    const options = (opt ?? {}) as IPtyForkOptions
    if (typeof options !== 'object') throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(opt)}`)
    for (const [name, type] of [['name', 'string'], ['cwd', 'string'], ['env', 'object'], ['uid', 'number'], ['gid', 'number']]) {
      checkOptionType(name, options[name as keyof IPtyForkOptions], type)
    }
    this.#file = file ? checkString(file, 'file') : 'sh'
    const argv = [this.#file, ...(args ?? []).map((arg, i) => checkString(arg, `args[${i}]`))]
    this.#cols = checkCells(options.cols, 'cols', 80)
    this.#rows = checkCells(options.rows, 'rows', 24)
    this.#encoding = checkEncoding(options.encoding)
    this.#decoder = this.#encoding === null ? undefined : new StringDecoder(this.#encoding)
    this.handleFlowControl = Boolean(options.handleFlowControl)
    this._flowControlPause = options.flowControlPause || '\x13'
    this._flowControlResume = options.flowControlResume || '\x11'
    const cwd = options.cwd || process.cwd()
    const env: Record<string, string | undefined> = { ...(options.env || process.env) }
    if (!options.env || options.env === process.env) for (const name of OUTER_TERMINAL_VARIABLES) delete env[name]
    env.PWD = cwd
    const term = options.name || env.TERM || 'xterm'
    env.TERM = term
    const spec = {
      argv,
      env: checkEnv(env),
      term,
      cwd,
      uid: options.uid === undefined || options.uid === -1 ? undefined : checkInteger(options.uid, 'uid', 0, MAX_ID),
      gid: options.gid === undefined || options.gid === -1 ? undefined : checkInteger(options.gid, 'gid', 0, MAX_ID),
      cols: this.#cols,
      rows: this.#rows,
    }
    this.#native = callNative(() => native.fork(sink(), spec))
    let child!: PtyProcess
    const started = new Promise<void>((resolve, reject) => {
      child = new PtyProcess(this.#native, { cols: this.#cols, rows: this.#rows }, { resolve, reject })
      // Usually the exec's outcome is known already; else it comes as an event.
      const settled = this.#native.settled
      if (settled) child._event(settled.length ? Kind.SpawnFailed : Kind.Spawned, null, settled[0] ?? 0, settled[1] ?? 0)
    })
    this.#child = child
    started.catch((err: Error) => this.#failed(err))
    child.on('data', (chunk: Buffer) => this.#data(chunk))
    child.once('end', () => this.#ended())
    child.once('exit', () => this.#exit())
    // Writes after the exit or the hang-up are dropped (as node-pty does): the stream's error
    // for them is of no use to anyone.
    child.on('error', () => {})
  }

  /** node-pty's class-level name for `open()`. */
  static open(options?: IPtyOpenOptions): PtyPairTerminal {
    return new PtyPairTerminal(options)
  }

  get pid(): number {
    return this.#native.pid
  }

  get cols(): number {
    return this.#cols
  }

  get rows(): number {
    return this.#rows
  }

  /** The master fd; -1 once closed. */
  get fd(): number {
    return this.#native.fd
  }

  /** The slave's path, e.g. `/dev/pts/3`. */
  get ptsName(): string {
    return this.#native.ptsName
  }

  get process(): string {
    return (this.#exited ? undefined : foregroundProcess(this.pid)) ?? this.#file
  }

  /** Only a terminal from `open()` has these. */
  get master(): undefined {
    return undefined
  }

  get slave(): undefined {
    return undefined
  }

  write(data: string | Buffer): void {
    if (this.handleFlowControl) {
      if (data === this._flowControlPause) return this.pause()
      if (data === this._flowControlResume) return this.resume()
    }
    if (this.#exited || this.#child.destroyed) return
    const bytes = typeof data === 'string' ? Buffer.from(data, this.#encoding ?? 'utf8') : data
    if (bytes.length > 0) this.#child.write(bytes)
  }

  resize(columns: number, rows: number, pixelSize?: IPixelSize): void {
    for (const [name, value] of [['columns', columns], ['rows', rows]] as const) {
      if (typeof value !== 'number') throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(value)}`)
    }
    if (pixelSize !== undefined && (pixelSize === null || typeof pixelSize !== 'object')) {
      throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `pixelSize must be an object, got ${describe(pixelSize)}`)
    }
    const cols = checkInteger(columns, 'columns', 1, MAX_CELLS)
    const height = checkInteger(rows, 'rows', 1, MAX_CELLS)
    if (this.#exited || this.#child.destroyed) return
    try {
      this.#child.resize(cols, height)
    } catch (err) {
      // The child exited a moment ago, before its exit event: nothing to resize.
      const code = (err as { code?: string }).code
      if (code !== 'ERR_PTY_EXITED' && code !== 'ERR_PTY_CLOSED') throw err
      return
    }
    this.#cols = cols
    this.#rows = height
  }

  clear(): void {}

  kill(signal?: string): void {
    const num = signalNumber(signal ?? 'SIGHUP')
    if (!this.#exited) this.#child.kill(num)
  }

  pause(): void {
    if (this.#paused) return
    this.#paused = true
    this.#child.pause()
    // Stop the reactor now, not once the stream's buffer is full: nothing more is read from the
    // terminal until `resume`, so a child that floods it blocks.
    this.#native.pause()
  }

  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    if (!this.#child.readableEnded && !this.#exited && this.#native.fd >= 0) callNative(() => this.#native.resume())
    this.#child.resume()
  }

  /** Hangs up: closes the terminal (the child gets SIGHUP) and sends SIGHUP, as node-pty does.
   * `exit` still follows. */
  destroy(): void {
    if (this.#child.destroyed) return
    const alive = !this.#exited
    this.#child.destroy()
    if (alive) this.#child.kill('SIGHUP')
  }

  #data(chunk: Buffer): void {
    if (this.#decoder === undefined) {
      this.emit('data', chunk)
      return
    }
    const text = this.#decoder.write(chunk)
    if (text.length > 0) this.emit('data', text)
  }

  #ended(): void {
    const rest = this.#decoder?.end()
    if (rest) this.emit('data', rest)
    this.emit('close')
  }

  #exit(): void {
    const status = this.#child.exitStatus?.status ?? -1
    // node-pty's numbers: a normal exit's code with signal 0, a signal's death as code 0 and
    // its number; an unknown status as 0 and 0.
    const signal = status > 0 ? status & 0x7f : 0
    const exitCode = status > 0 && signal === 0 ? (status >> 8) & 0xff : 0
    this.#deliverExit(exitCode, signal)
  }

  #deliverExit(exitCode: number, signal: number): void {
    if (this.#exited) return
    this.#exited = true
    this.emit('exit', exitCode, signal)
  }

  /** The program could not be started. node-pty's child reports that on the terminal and
   * exits with 1; so does this, with the error's own message. */
  #failed(err: Error): void {
    this.emit('data', this.#decoder === undefined ? Buffer.from(`${err.message}\r\n`) : `${err.message}\r\n`)
    this.#deliverExit(1, 0)
  }
}
