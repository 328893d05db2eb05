// The public types of `napi-pty/node-pty`, under the names node-pty's typings give them, so
// that a program written against node-pty compiles against these unchanged.

/** Options shared by every platform. */
export interface IBasePtyForkOptions {
  /** `TERM` for the child. Default: `env.TERM`, else `xterm`. */
  name?: string
  /** Columns, 1 to 65535. Default 80. */
  cols?: number
  /** Rows, 1 to 65535. Default 24. */
  rows?: number
  /** The child's working directory. Default: this process's. */
  cwd?: string
  /** The child's environment. Default `process.env` (less the variables that describe the
   * terminal this process runs in, such as `TMUX`, `COLUMNS` and `LINES`). */
  env?: { [key: string]: string | undefined }
  /** How output is decoded into strings. Default `'utf8'`; `null` gives Buffers. Written
   * strings are encoded with it too (UTF-8 when `null`). */
  encoding?: string | null
  /** Whether `write` of `flowControlPause`/`flowControlResume` pauses/resumes reading instead
   * of reaching the child. Default `false`. */
  handleFlowControl?: boolean
  /** Default XOFF (`'\x13'`). */
  flowControlPause?: string
  /** Default XON (`'\x11'`). */
  flowControlResume?: string
}

export interface IPtyForkOptions extends IBasePtyForkOptions {
  /** The child's user id (needs the privilege to take it). */
  uid?: number
  /** The child's group id. */
  gid?: number
}

/** Windows-only options: accepted and ignored here, as node-pty does on Unix. */
export interface IWindowsPtyForkOptions extends IBasePtyForkOptions {
  useConpty?: boolean
  useConptyDll?: boolean
  conptyInheritCursor?: boolean
}

/** Options of `open()`. */
export interface IPtyOpenOptions {
  cols?: number
  rows?: number
  /** As in {@link IBasePtyForkOptions.encoding}. */
  encoding?: string | null
}

/** A subscription; `dispose()` ends it. */
export interface IDisposable {
  dispose(): void
}

/** Subscribes a listener to an event. */
export interface IEvent<T> {
  (listener: (e: T) => any): IDisposable
}

/** How the child ended, in node-pty's numbers: a signal's death is `exitCode` 0 and the
 * signal's number; a normal exit is its code and `signal` 0. */
export interface IExitEvent {
  exitCode: number
  signal?: number
}

/** The pixel size of a terminal, for `resize`. */
export interface IPixelSize {
  width: number
  height: number
}

/** A child process on a pseudo-terminal. */
export interface IPty {
  /** The child's process id. */
  readonly pid: number
  readonly cols: number
  readonly rows: number
  /** The name of the terminal's foreground process (as the shell's job control sets it),
   * read when asked: e.g. `bash`, then `vim` while the shell runs vim. */
  readonly process: string
  /** Whether `write` intercepts the flow-control strings. May be changed at any time. */
  handleFlowControl: boolean
  /** The child's output. A string in the chosen encoding (a Buffer when it is `null`). */
  readonly onData: IEvent<string>
  /** The child's end, after the last `onData`. */
  readonly onExit: IEvent<IExitEvent>
  /** Resizes the terminal; the child gets SIGWINCH. Does nothing once the child has exited. */
  resize(columns: number, rows: number, pixelSize?: IPixelSize): void
  /** Does nothing on Unix (as in node-pty). */
  clear(): void
  /** Writes to the child's input. */
  write(data: string | Buffer): void
  /** Sends a signal to the child (default `SIGHUP`). */
  kill(signal?: string): void
  /** Stops reading the child's output: once the terminal's buffer is full the child blocks. */
  pause(): void
  /** Reads the child's output again. */
  resume(): void
}
