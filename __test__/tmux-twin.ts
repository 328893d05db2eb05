// Runs one program twice at the same size: on a tmux pane (the reference terminal) and on a
// napi-pty child with a Screen, so a test can drive both the same way and compare what each
// terminal shows. Not a test file.

import * as fs from 'node:fs'
import * as path from 'node:path'

import type { ExecutionContext } from 'ava'

import { fork, type PtyProcess, type Screen } from '../index'
import { pollUntil, run, tempDir } from './script-helpers'

export interface Twin {
  dir: string
  child: PtyProcess
  screen: Screen
  tmux(...args: string[]): Promise<string>
  /** tmux's pane as our Screen's text(): rows without trailing blanks, no blank rows at the end. */
  tmuxText(): Promise<string>
  tmuxCursor(): Promise<{ x: number; y: number }>
  /** Presses keys on both terminals (key names as `child.press` takes them). */
  press(...keys: string[]): Promise<void>
  /** Waits until both terminals show `marker`. */
  settle(marker: string | RegExp): Promise<void>
  /** Waits (up to a deadline) until both show the same text and cursor, then asserts it, so a
   * difference fails with both screens in the message. */
  same(t: ExecutionContext, what: string): Promise<void>
  resize(cols: number, rows: number): Promise<void>
}

/** The same environment on both sides. */
export function twinEnv(dir: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm-256color', LANG: 'C.UTF-8', LESSHISTFILE: '-' }
}

const TMUX_KEYS: Record<string, string> = { Escape: 'Escape', Enter: 'Enter', Up: 'Up', Down: 'Down', Left: 'Left', Right: 'Right', PageUp: 'PageUp', PageDown: 'PageDown', Backspace: 'BSpace', Tab: 'Tab' }

export async function twin(t: ExecutionContext, argv: string[], cols: number, rows: number): Promise<Twin> {
  const dir = tempDir(t)
  const socket = path.join(dir, 'tmux.sock')
  const conf = path.join(dir, 'tmux.conf')
  fs.writeFileSync(conf, 'set -g status off\nset -g escape-time 0\nset -g remain-on-exit off\n')
  const env = twinEnv(dir)
  const tmuxEnv = { PATH: env.PATH, HOME: dir, LANG: 'C.UTF-8', TMUX_TMPDIR: dir }
  const tmux = async (...args: string[]): Promise<string> => {
    const result = await run('tmux', ['-u', '-S', socket, '-f', conf, ...args], { cwd: dir, env: tmuxEnv })
    if (result.code !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr.toString()}`)
    return result.stdout.toString()
  }
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`)
  t.teardown(async () => {
    await tmux('kill-server').catch(() => undefined)
  })
  await tmux('new-session', '-d', '-s', 'ref', '-x', String(cols), '-y', String(rows), '-c', dir, 'env', '-i', ...envArgs, ...argv)
  const child = await fork(argv, { cols, rows, cwd: dir, env })
  const screen = child.screen()
  t.teardown(async () => {
    screen.dispose()
    child.kill('SIGKILL')
    await child.wait()
  })
  const tmuxText = async (): Promise<string> => {
    const lines = (await tmux('capture-pane', '-p', '-t', 'ref')).replace(/\n$/, '').split('\n').map((l) => l.replace(/ +$/, ''))
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    return lines.join('\n')
  }
  const tmuxCursor = async () => {
    const [x, y] = (await tmux('display-message', '-p', '-t', 'ref', '#{cursor_x},#{cursor_y}')).trim().split(',').map(Number)
    return { x, y }
  }
  const shows = (text: string, marker: string | RegExp) => (typeof marker === 'string' ? text.includes(marker) : marker.test(text))
  return {
    dir,
    child,
    screen,
    tmux,
    tmuxText,
    tmuxCursor,
    async press(...keys) {
      for (const key of keys) {
        if (TMUX_KEYS[key] || /^C-.$/.test(key)) await tmux('send-keys', '-t', 'ref', TMUX_KEYS[key] ?? key)
        else await tmux('send-keys', '-t', 'ref', '-l', key)
      }
      await child.press(...keys)
    },
    async settle(marker) {
      await Promise.all([
        screen.waitFor(marker),
        pollUntil(`${String(marker)} on the tmux pane`, async () => (shows(await tmuxText(), marker) ? true : undefined)).catch(async (err: Error) => {
          throw new Error(`${err.message}; it shows:\n${await tmuxText()}`)
        }),
      ])
    },
    async same(t, what) {
      const ours = () => ({ text: screen.text(), cursor: screen.cursor })
      let theirs = { text: '', cursor: { x: -1, y: -1 } }
      await pollUntil(
        `the same screen (${what})`,
        async () => {
          await screen.flush()
          theirs = { text: await tmuxText(), cursor: await tmuxCursor() }
          const now = ours()
          return now.text === theirs.text && now.cursor.x === theirs.cursor.x && now.cursor.y === theirs.cursor.y ? true : undefined
        },
        10_000,
      ).catch(() => undefined)
      t.is(screen.text(), theirs.text, `${what}: text`)
      t.deepEqual(screen.cursor, theirs.cursor, `${what}: cursor`)
    },
    async resize(c, r) {
      await tmux('resize-window', '-t', 'ref', '-x', String(c), '-y', String(r))
      child.resize(c, r)
    },
  }
}
