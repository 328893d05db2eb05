// Helpers for the recorder's reference tests: a tmux pane running one command (kept on screen
// after it exits), and the asciinema 3 that scripts/asciinema.sh installs.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import type { ExecutionContext } from 'ava'

import { pollUntil, run, tmuxServer } from './script-helpers'

export const ASCIINEMA_VERSION = '3.2.0'

/** Where scripts/asciinema.sh installs asciinema (the same rule as the script). */
export const ASCIINEMA = path.join(
  process.env.NAPI_PTY_ASCIINEMA_ROOT ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'napi-pty', `asciinema-${ASCIINEMA_VERSION}`),
  'bin',
  'asciinema',
)

/** Why the asciinema tests cannot run, or undefined when they can. */
export const ASCIINEMA_MISSING = fs.existsSync(ASCIINEMA)
  ? undefined
  : `asciinema ${ASCIINEMA_VERSION} is not installed (scripts/asciinema.sh installs it)`

/** `asciinema convert -f FORMAT IN -` as bytes; throws with its stderr when it fails. */
export async function asciinemaConvert(dir: string, format: 'raw' | 'txt' | 'asciicast-v3', input: string): Promise<Buffer> {
  const out = path.join(dir, `asciinema-out-${Math.random().toString(36).slice(2)}`)
  const result = await run(ASCIINEMA, ['convert', '-f', format, input, out], { cwd: dir })
  if (result.code !== 0) throw new Error(`asciinema convert -f ${format} ${input}: ${result.stderr.toString()}`)
  return fs.readFileSync(out)
}

/** The bytes asciinema's raw format starts with: a resize to the recording's size. */
export function rawPrefix(cols: number, rows: number): Buffer {
  return Buffer.from(`\x1b[8;${rows};${cols}t`)
}

/**
 * A tmux pane of `cols`×`rows` on its own server running `argv` (with a clean environment) in
 * `dir`; the pane stays on screen after the command exits. The server is killed at the end.
 */
export async function tmuxPane(t: ExecutionContext, dir: string, argv: string[], size = { cols: 100, rows: 30 }) {
  const { socket, tmux, screen, waitForScreen } = tmuxServer(t, dir)
  // The session starts with a shell that waits for a key, so that remain-on-exit is set before
  // the command runs; then the command replaces it.
  await tmux('new-session', '-d', '-s', 'rec', '-x', String(size.cols), '-y', String(size.rows), '-c', dir, 'cat')
  await tmux('set-option', '-t', 'rec', 'remain-on-exit', 'on')
  // No "Pane is dead" line over the command's last screen.
  await tmux('set-option', '-t', 'rec', 'remain-on-exit-format', '')
  // The command's exit status, written by a shell around it: tmux can mark a pane dead (its
  // terminal closed) and still never fill in #{pane_dead_status} (seen with two servers up).
  const statusFile = path.join(os.tmpdir(), `${socket}.status`)
  t.teardown(() => fs.rmSync(statusFile, { force: true }))
  const wrapper = `"$@"; echo $? > '${statusFile}'`
  await tmux('respawn-pane', '-k', '-t', 'rec', '-c', dir, 'sh', '-c', wrapper, 'sh', 'env', '-u', 'ENV', 'SHELL=/bin/sh', 'TERM=xterm', ...argv)
  return {
    tmux,
    screen,
    /** Types `text` literally (no Enter). */
    async keys(text: string): Promise<void> {
      await tmux('send-keys', '-t', 'rec', '-l', text)
    },
    async enter(): Promise<void> {
      await tmux('send-keys', '-t', 'rec', 'Enter')
    },
    waitForScreen,
    /** Resolves once the pane's command has exited, with its exit status. */
    waitForExit(): Promise<number> {
      return pollUntil('the pane command to exit', async () => {
        const status = fs.existsSync(statusFile) ? fs.readFileSync(statusFile, 'utf8') : ''
        return status.endsWith('\n') ? Number(status) : undefined
      })
    },
  }
}

/** tmux capture-pane's text as our .txt writes a screen: no trailing empty rows. */
export function trimScreen(text: string): string {
  const lines = text.split('\n')
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  return lines.map((line) => `${line}\n`).join('')
}
