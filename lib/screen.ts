// Screen: what a person would see on the child's terminal, from a headless xterm.js fed with
// the child's output.

import { Terminal, type ITerminalAddon } from '@xterm/headless'
import type { Duplex } from 'node:stream'

import { codedError } from './errors'
import { readCell, type Cell } from './screen-cell'
import { renderSvg, type SvgOptions } from './svg'
import { checkTimeout, describePattern, startTimer, tapOutput } from './tap'
import { checkBoolean, checkInteger, checkOptions, describe, MAX_CELLS } from './validate'

export type { Cell, Color } from './screen-cell'
export type { SvgOptions } from './svg'

export interface ScreenOptions {
  /** Size of a Screen made on its own. A child's Screen has (and follows) the child's size. */
  cols?: number
  rows?: number
  /** Lines kept above the screen as they scroll off. Default 1000. */
  scrollback?: number
  /** Answer the program's queries (cursor position, device attributes) as a terminal does, by
   * writing to the child. Default true. */
  answer?: boolean
}

export interface WaitOptions {
  /** Milliseconds before the Promise rejects with `code: 'ERR_PTY_TIMEOUT'`. Default 10,000. */
  timeout?: number
}

export type ScreenCondition = string | RegExp | ((screen: Screen) => unknown)

/** What a Screen needs of a child. */
export interface ScreenTarget extends Duplex {
  readonly cols: number
  readonly rows: number
  readonly fd: number
  kill(signal: number): boolean
}

// Its typings name the browser package (`@xterm/xterm`, not installed): typed here instead.
const { Unicode11Addon } = require('@xterm/addon-unicode11') as { Unicode11Addon: new () => ITerminalAddon }

const DEFAULT_TIMEOUT_MS = 10_000
/** Output queued in the terminal but not parsed yet, beyond which the child is paused. */
const HIGH_WATER = 4 * 1024 * 1024
const LOW_WATER = 1024 * 1024

export class Screen {
  readonly #term: Terminal
  readonly #waiters = new Set<() => void>()
  readonly #cleanup: Array<() => void> = []
  #cursorVisible = true
  #ended = false
  #disposed = false
  #queued = 0

  constructor(options?: ScreenOptions) {
    const opts = checkOptions(options, 'options')
    const unknown = Object.keys(opts).find((key) => !['cols', 'rows', 'scrollback', 'answer'].includes(key))
    if (unknown) throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `options.${unknown} is not a Screen option`)
    const cols = opts.cols === undefined ? 80 : checkInteger(opts.cols, 'options.cols', 1, MAX_CELLS)
    const rows = opts.rows === undefined ? 24 : checkInteger(opts.rows, 'options.rows', 1, MAX_CELLS)
    const scrollback = opts.scrollback === undefined ? 1000 : checkInteger(opts.scrollback, 'options.scrollback', 0, 1_000_000)
    if (opts.answer !== undefined) checkBoolean(opts.answer, 'options.answer')
    this.#term = new Terminal({ cols, rows, scrollback, allowProposedApi: true, logLevel: 'off' })
    this.#term.loadAddon(new Unicode11Addon())
    this.#term.unicode.activeVersion = '11'
    // DECTCEM (`CSI ? 25 l/h`): xterm.js keeps it private; the SVG draws the cursor by it.
    const cursorMode = (visible: boolean) => (params: (number | number[])[]) => {
      if (params.includes(25)) this.#cursorVisible = visible
      return false
    }
    this.#term.parser.registerCsiHandler({ prefix: '?', final: 'h' }, cursorMode(true))
    this.#term.parser.registerCsiHandler({ prefix: '?', final: 'l' }, cursorMode(false))
    this.#term.onWriteParsed(() => this.#wake())
  }

  /** @internal A Screen of `child`: fed with its output, following its size. */
  static _attach(child: ScreenTarget, options?: ScreenOptions): Screen {
    const opts = checkOptions(options, 'options')
    if (opts.cols !== undefined || opts.rows !== undefined) {
      throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', "a child's Screen has the child's size: resize the child instead")
    }
    const screen = new Screen({ ...opts, cols: child.cols, rows: child.rows })
    const answer = opts.answer ?? true
    let paused = false
    const untap = tapOutput(child, {
      data: (chunk) => {
        if (screen.#disposed) return
        screen.#queued += chunk.length
        if (screen.#queued > HIGH_WATER && !paused) {
          paused = true
          child.pause()
        }
        screen.#term.write(chunk, () => {
          screen.#queued -= chunk.length
          if (paused && screen.#queued < LOW_WATER) {
            paused = false
            child.resume()
          }
        })
      },
      end: () => {
        // Once what is queued is parsed, the screen will not change again.
        if (!screen.#disposed) screen.#term.write('', () => {
          screen.#ended = true
          screen.#wake()
        })
      },
    })
    const onResize = (cols: number, rows: number) => screen.#resize(cols, rows)
    child.on('resize', onResize)
    screen.#cleanup.push(untap, () => child.off('resize', onResize))
    if (answer) {
      const reply = screen.#term.onData((data) => {
        // Only to a child that can take it: writing after its exit or a hang-up fails, and the
        // stream would emit that failure as 'error' at the application. kill(0) is false once
        // the exit is known, which is what write() checks in the same turn of the loop.
        if (!child.writableEnded && !child.destroyed && child.fd >= 0 && child.kill(0)) child.write(data)
      })
      screen.#cleanup.push(() => reply.dispose())
    }
    return screen
  }

  /** The Screen has been disposed of. */
  get disposed(): boolean {
    return this.#disposed
  }

  get cols(): number {
    return this.#term.cols
  }

  get rows(): number {
    return this.#term.rows
  }

  /** Which buffer is shown: full-screen programs (vim, less, top) use the alternate one. */
  get buffer(): 'normal' | 'alternate' {
    return this.#term.buffer.active.type
  }

  /** The cursor, 0-based, `y` from the top of the screen. */
  get cursor(): { x: number; y: number } {
    const b = this.#term.buffer.active
    return { x: b.cursorX, y: b.cursorY }
  }

  /** Whether the program has hidden the cursor (`CSI ? 25 l`). */
  get cursorVisible(): boolean {
    return this.#cursorVisible
  }

  /** The terminal is in application cursor mode (DECCKM): cursor keys send `ESC O A`. */
  get applicationCursor(): boolean {
    return this.#term.modes.applicationCursorKeysMode
  }

  /** One string per row of the screen, trailing blanks trimmed. */
  lines(): string[] {
    const b = this.#term.buffer.active
    const out: string[] = []
    // translateToString(true) trims only cells never written; a program clearing a line with
    // spaces leaves blanks that a person does not see either.
    for (let y = 0; y < this.#term.rows; y++) out.push((b.getLine(b.baseY + y)?.translateToString(true) ?? '').replace(/ +$/, ''))
    return out
  }

  /** The screen's rows joined with `\n`, trailing blanks and blank rows at the end trimmed. */
  text(): string {
    const lines = this.lines()
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    return lines.join('\n')
  }

  /** The cell at column `x`, row `y` (0-based, from the top left of the screen). */
  cell(x: number, y: number): Cell {
    checkInteger(x, 'x', 0, this.#term.cols - 1)
    checkInteger(y, 'y', 0, this.#term.rows - 1)
    const b = this.#term.buffer.active
    const cell = b.getLine(b.baseY + y)?.getCell(x)
    if (!cell) throw codedError(RangeError, 'ERR_OUT_OF_RANGE', `no cell at ${x},${y}`)
    return readCell(cell)
  }

  /** The screen as an SVG document (colours, attributes, the cursor; monospace font). */
  toSVG(options?: SvgOptions): string {
    return renderSvg(this, checkOptions(options, 'options') as SvgOptions)
  }

  /** Feeds output to a Screen made on its own. Resolves once it has been parsed. */
  write(data: string | Uint8Array): Promise<void> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `data must be a string or a Uint8Array, got ${describe(data)}`)
    }
    this.#checkLive('write')
    return new Promise((resolve) => this.#term.write(data, resolve))
  }

  /** Resizes a Screen made on its own (a child's Screen follows `child.resize()`). */
  resize(cols: number, rows: number): void {
    this.#resize(checkInteger(cols, 'cols', 1, MAX_CELLS), checkInteger(rows, 'rows', 1, MAX_CELLS))
  }

  /** Resolves once everything written so far has been parsed. */
  flush(): Promise<void> {
    if (this.#disposed) return Promise.resolve()
    return new Promise((resolve) => this.#term.write('', resolve))
  }

  /**
   * Resolves once the screen shows `condition`: a string somewhere in `text()` (resolves with
   * the text), a RegExp matching `text()` (with the match) or a function of the Screen
   * returning something truthy (with that). Checked now and after each write is parsed.
   * Rejects with `code: 'ERR_PTY_TIMEOUT'` after `timeout` ms, and with `'ERR_PTY_EOF'` when
   * the child's output has ended without it; both messages show the screen.
   */
  waitFor<T = unknown>(condition: ScreenCondition, options?: WaitOptions): Promise<T> {
    let timeoutMs: number
    try {
      if (typeof condition !== 'string' && !(condition instanceof RegExp) && typeof condition !== 'function') {
        throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `condition must be a string, a RegExp or a function, got ${describe(condition)}`)
      }
      timeoutMs = checkTimeout(checkOptions(options, 'options').timeout, DEFAULT_TIMEOUT_MS)
      this.#checkLive('waitFor')
    } catch (err) {
      return Promise.reject(err)
    }
    const re = condition instanceof RegExp ? new RegExp(condition.source, condition.flags.replace(/[gy]/g, '')) : undefined
    const test = (): unknown => {
      if (typeof condition === 'function') return condition(this)
      const text = this.text()
      if (re) return re.exec(text)
      return text.includes(condition as string) ? text : undefined
    }
    return new Promise<T>((resolve, reject) => {
      const finish = (err?: Error, value?: unknown) => {
        this.#waiters.delete(check)
        timer.clear()
        if (err) reject(err)
        else resolve(value as T)
      }
      const check = () => {
        if (this.#disposed) return finish(codedError(Error, 'ERR_SCREEN_DISPOSED', 'waitFor(): the Screen was disposed'))
        let value: unknown
        try {
          value = test()
        } catch (err) {
          return finish(err as Error)
        }
        if (value) return finish(undefined, value)
        if (this.#ended) finish(this.#failure('ERR_PTY_EOF', `the output ended before the screen showed ${describePattern(condition)}`))
      }
      const timer = startTimer(timeoutMs, () => finish(this.#failure('ERR_PTY_TIMEOUT', `waitFor() timed out after ${timeoutMs} ms waiting for the screen to show ${describePattern(condition)}`)))
      this.#waiters.add(check)
      check()
    })
  }

  /** The screen as text for a message: its size, cursor and rows, framed. */
  toString(): string {
    if (this.#disposed) return '[Screen (disposed)]'
    const { x, y } = this.cursor
    const rule = '-'.repeat(Math.min(this.cols, 80))
    return [`screen ${this.cols}x${this.rows}, ${this.buffer} buffer, cursor at ${x},${y}:`, rule, ...this.lines().map((l) => `|${l}`), rule].join('\n')
  }

  /** Stops following the child and frees the terminal. Pending waits reject. */
  dispose(): void {
    if (this.#disposed) return
    this.#disposed = true
    for (const undo of this.#cleanup.splice(0)) undo()
    this.#wake()
    this.#term.dispose()
  }

  [Symbol.dispose](): void {
    this.dispose()
  }

  #failure(code: string, message: string): Error {
    return codedError(Error, code, `${message}\n${this.toString()}`)
  }

  #checkLive(what: string): void {
    if (this.#disposed) throw codedError(Error, 'ERR_SCREEN_DISPOSED', `${what}: the Screen was disposed`)
  }

  #resize(cols: number, rows: number): void {
    if (!this.#disposed) this.#term.resize(cols, rows)
    this.#wake()
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check()
  }
}
