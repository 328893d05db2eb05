// examples/web-terminal end to end: xterm.js in headless Chromium (Debian's `chromium`, driven
// by playwright-core), a WebSocket, napi-pty/node-pty behind it.

import * as fs from 'node:fs'
import * as path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

import test from 'ava'

import type { IPty } from '../lib/node-pty'
import { bootTicks, tempDir, terminalHolders, waitFor } from './helpers'

const CHROMIUM = '/usr/bin/chromium'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { start } = require('../examples/web-terminal/server.js') as {
  start(options: { port: number; shell: string; args: string[]; cwd: string }): Promise<Server & { terminals: Set<IPty> }>
}

/** What this test uses of playwright-core's Page. (Its own typings need the DOM's, which this
 * project's Node-only compilation leaves out; page code goes as strings.) */
interface Page {
  goto(url: string): Promise<unknown>
  evaluate<T>(expression: string): Promise<T>
  waitForFunction(expression: string): Promise<unknown>
  waitForTimeout(ms: number): Promise<void>
  click(selector: string): Promise<void>
  keyboard: { type(text: string): Promise<void> }
  setViewportSize(size: { width: number; height: number }): Promise<void>
  screenshot(options: { path: string }): Promise<unknown>
  close(): Promise<void>
}
interface BrowserContext {
  newPage(): Promise<Page>
  close(): Promise<void>
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chromium } = require('playwright-core') as {
  chromium: { launchPersistentContext(dir: string, options: Record<string, unknown>): Promise<BrowserContext> }
}

/** The page's terminal buffer, wrapped lines joined. */
function screen(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const buffer = window.terminal.term.buffer.active
    let text = ''
    for (let i = 0; i < buffer.length; i++) {
      const line = buffer.getLine(i)
      text += (i > 0 && !line.isWrapped ? '\\n' : '') + line.translateToString(true)
    }
    return text
  })()`)
}

async function screenHas(page: Page, pattern: RegExp): Promise<RegExpMatchArray> {
  for (;;) {
    const match = (await screen(page)).match(pattern)
    if (match) return match
    await page.waitForTimeout(50)
  }
}

test('a shell in xterm.js in Chromium: typed lines, ls, a 5 MB burst, resize, and closing the tab', async (t) => {
  t.true(fs.existsSync(CHROMIUM), `${CHROMIUM} is needed (apt-get install chromium)`)
  const { dir, remove } = tempDir()
  t.teardown(remove)
  const home = path.join(dir, 'home')
  fs.mkdirSync(home)
  for (const name of ['alpha.txt', 'beta-file', 'gamma.log']) fs.writeFileSync(path.join(home, name), '')
  // The shell's prompt (bash takes PS1 from its environment, which the server passes on).
  process.env.PS1 = '\\W $ '
  const server = await start({ port: 0, shell: 'bash', args: ['--norc', '--noprofile'], cwd: home })
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const started: IPty[] = []
  server.on('terminal', (term: IPty) => started.push(term))

  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1000, height: 600 },
  })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  await page.waitForFunction("document.title.endsWith(': connected')")
  t.is(started.length, 1)
  const term = started[0] as IPty & { ptsName: string }
  const exited = new Promise((resolve) => term.onExit(resolve))

  await page.click('#terminal')
  await page.keyboard.type('echo typed-$((6 * 7))\n')
  await screenHas(page, /^typed-42$/m)
  await page.keyboard.type('ls\n')
  await screenHas(page, /alpha\.txt\s+beta-file\s+gamma\.log/)
  t.pass('echo and ls appear in the page')

  // 5,000,000 Qs with no newline (xterm.js wraps them), then a marker; the command line has one Q.
  await page.keyboard.type("head -c 5000000 /dev/zero | tr '\\0' Q; echo; echo burst-$((2 + 3))\n")
  await screenHas(page, /^burst-5$/m)
  const qs = await page.evaluate<number>(`(() => {
    const buffer = window.terminal.term.buffer.active
    let count = 0
    for (let i = 0; i < buffer.length; i++) for (const c of buffer.getLine(i).translateToString(true)) if (c === 'Q') count++
    return count
  })()`)
  t.is(qs, 5000001, 'the burst arrived whole')

  const before = await page.evaluate<number>('window.terminal.term.cols')
  await page.setViewportSize({ width: 640, height: 400 })
  await page.waitForFunction(`window.terminal.term.cols !== ${before}`)
  const size = await page.evaluate<{ cols: number; rows: number }>('({ cols: window.terminal.term.cols, rows: window.terminal.term.rows })')
  await waitFor(() => term.cols === size.cols && term.rows === size.rows)
  await page.keyboard.type('clear; stty size\n')
  await screenHas(page, new RegExp(`^${size.rows} ${size.cols}$`, 'm'))
  t.deepEqual({ cols: term.cols, rows: term.rows }, size)
  if (process.env.WEB_TERMINAL_SCREENSHOT) {
    await page.keyboard.type('ls --color=always; printf "\\033[1;32mnapi-pty/node-pty\\033[0m: %s on %s\\n" "$TERM" "$(tty)"\n')
    await screenHas(page, /^napi-pty\/node-pty: xterm-256color on \/dev\/pts/m)
    await page.screenshot({ path: process.env.WEB_TERMINAL_SCREENSHOT })
  }

  // Closing the tab hangs up: the shell exits and nothing is left on its terminal.
  const shellPid = term.pid
  const open = bootTicks()
  await page.close()
  // The hang-up and the SIGHUP that follows it race bash's read of the hung-up terminal: bash
  // dies of the signal or, having read the end of its input first, exits 0. Both are an exit.
  const status = await exited
  t.true([JSON.stringify({ exitCode: 0, signal: 1 }), JSON.stringify({ exitCode: 0, signal: 0 })].includes(JSON.stringify(status)), JSON.stringify(status))
  await waitFor(() => server.terminals.size === 0 && terminalHolders(term.ptsName, open).length === 0)
  t.is(server.terminals.size, 0)
  t.deepEqual(terminalHolders(term.ptsName, open), [])
  t.throws(() => process.kill(shellPid, 0), { code: 'ESRCH' })
})
