// open(): a bare pseudo-terminal pair as node-pty gives it, both ends as sockets.

import { EventEmitter } from 'node:events'
import * as tty from 'node:tty'

import * as native from './native'
import { callNative, codedError } from './errors'
import { checkCells, checkEncoding, eventOf } from './node-pty-options'
import type { IEvent, IExitEvent, IPtyOpenOptions } from './node-pty-types'
import { describe } from './validate'

/** Both ends of a new pseudo-terminal: `master` and `slave` are sockets over its fds (read
 * with the chosen encoding); the object's own `data`, `write` and `resize` are the master's.
 * There is no process: `pid` is -1 and `onExit` never fires. */
export class PtyPairTerminal extends EventEmitter {
  readonly master: tty.ReadStream
  readonly slave: tty.ReadStream
  readonly fd: number
  readonly ptsName: string
  readonly pid = -1
  readonly process: string = process.argv[0] || 'node'
  handleFlowControl = false
  #cols: number
  #rows: number
  readonly onData: IEvent<string> = eventOf(this, 'data')
  readonly onExit: IEvent<IExitEvent> = () => ({ dispose: () => {} })

  constructor(options?: IPtyOpenOptions) {
    super()
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`)
    }
    this.#cols = checkCells(options?.cols, 'cols', 80)
    this.#rows = checkCells(options?.rows, 'rows', 24)
    const encoding = checkEncoding(options?.encoding)
    const pair = callNative(() => native.openpty(this.#cols, this.#rows))
    this.fd = pair.master
    this.ptsName = pair.path
    this.master = new tty.ReadStream(pair.master)
    this.slave = new tty.ReadStream(pair.slave)
    for (const end of [this.master, this.slave]) {
      if (encoding !== null) end.setEncoding(encoding)
      end.resume()
    }
    this.master.on('data', (data) => this.emit('data', data))
  }

  get cols(): number {
    return this.#cols
  }

  get rows(): number {
    return this.#rows
  }

  write(data: string | Buffer): void {
    this.master.write(data)
  }

  resize(columns: number, rows: number): void {
    const cols = checkCells(columns, 'columns', 0)
    const height = checkCells(rows, 'rows', 0)
    if (cols === 0 || height === 0) throw codedError(RangeError, 'ERR_OUT_OF_RANGE', 'columns and rows must be at least 1')
    if (this.master.destroyed) return
    callNative(() => native.setWindowSize(this.fd, cols, height))
    this.#cols = cols
    this.#rows = height
  }

  clear(): void {}

  /** There is no process to signal. */
  kill(): void {}

  pause(): void {
    this.master.pause()
  }

  resume(): void {
    this.master.resume()
  }

  /** Closes both ends. */
  destroy(): void {
    this.master.destroy()
    this.slave.destroy()
  }
}
