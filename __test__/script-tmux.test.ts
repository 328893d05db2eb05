import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { LINUX, linuxOnly } from './helpers'

import { BIN, FOOTER_RE, HEADER_RE, pollUntil, run, splitTypescript, tempDir, tmuxServer } from './script-helpers'

/** Single-quotes a word for sh. */
function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/** The command line that starts our recorder, for typing into a shell. */
const RECORDER = `${shQuote(process.execPath)} ${shQuote(BIN)} script`

/** The pids of `pid`'s children, from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // it exited meanwhile
    }
    // "pid (comm) state ppid …": comm may hold anything, so count from its closing parenthesis.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid === pid) children.push(Number(entry))
  }
  return children
}

const STTY_LINE = /^[0-9a-f]+(:[0-9a-f]+)+\n$/

/**
 * A detached tmux session of 100x30 on its own server, running sh with the prompt `outer> `
 * in the test's directory; the server is killed when the test ends.
 */
async function tmuxSession(t: ExecutionContext, dir: string) {
  const { env, tmux, waitForScreen } = tmuxServer(t, dir)
  await tmux(
    'new-session', '-d', '-s', 'rec', '-x', '100', '-y', '30', '-c', dir,
    'env', '-u', 'ENV', 'PS1=outer> ', 'SHELL=/bin/sh', 'TERM=xterm', '/bin/sh',
  )
  const paneTty = (await tmux('display-message', '-p', '-t', 'rec', '#{pane_tty}')).trim()
  const panePid = Number(await tmux('display-message', '-p', '-t', 'rec', '#{pane_pid}'))
  const stty = async (device: string, ...args: string[]): Promise<string> =>
    (await run('stty', ['-F', device, ...args], { cwd: dir, env })).stdout.toString()

  const session = {
    tmux,
    paneTty,
    panePid,
    stty,
    /** Types `text` and Enter, as a person at the keyboard. */
    async type(text: string): Promise<void> {
      await tmux('send-keys', '-t', 'rec', '-l', text)
      await tmux('send-keys', '-t', 'rec', 'Enter')
    },
    waitForScreen,
    waitForFile(name: string, pattern: RegExp): Promise<string> {
      return pollUntil(`${name} to match ${pattern}`, async () => {
        const file = path.join(dir, name)
        const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
        return pattern.test(text) ? text : undefined
      })
    },
    /** The recorder has put the pane's terminal in raw mode: keys now go to the child. */
    waitForRawMode(): Promise<true> {
      return pollUntil('raw mode on the pane', async () => ((await stty(paneTty)).includes('-icanon') ? true : undefined))
    },
    /** The pane's shell has no child left: the recorder has exited. */
    waitForRecorderGone(): Promise<true> {
      return pollUntil('the recorder to exit', async () => (childrenOf(panePid).length === 0 ? true : undefined))
    },
    /** Saves the pane's terminal settings (`stty -g`) to `name`, from the pane's shell. */
    async saveSettings(name: string): Promise<string> {
      await session.type(`stty -g > ${name}`)
      return session.waitForFile(name, STTY_LINE)
    },
  }
  await session.waitForScreen(/^outer>/m)
  return session
}

linuxOnly(LINUX.tmux, test)('an interactive session in tmux: typing, a resize, and the terminal restored', async (t) => {
  const dir = tempDir(t)
  const pane = await tmuxSession(t, dir)
  const before = await pane.saveSettings('before.txt')

  await pane.type(`PS1='inner> ' ${RECORDER} -q rec.ts`)
  await pane.waitForRawMode()
  await pane.waitForScreen(/^inner>/m)
  await pane.type('echo hi')
  await pane.waitForScreen(/^hi$/m)

  // The shell inside the recorder: the pane's shell → node → the shell on the recorder's pty.
  const innerShell = await pollUntil('the recorded shell', async () => {
    const shells = childrenOf(pane.panePid).flatMap(childrenOf)
    return shells.length === 1 ? shells[0] : undefined
  })
  const innerTty = `/proc/${innerShell}/fd/0`
  t.is(await pane.stty(innerTty, 'size'), '30 100\n')
  await pane.tmux('resize-window', '-t', 'rec', '-x', '120', '-y', '40')
  // The person looks at the new window, then types: wait until the resize reached the child.
  await pollUntil('the resize to reach the recorded shell', async () =>
    (await pane.stty(innerTty, 'size')) === '40 120\n' ? true : undefined,
  )
  await pane.type('stty size')
  await pane.waitForScreen(/^40 120$/m)
  await pane.type('exit')
  await pane.waitForRecorderGone()

  t.is(await pane.saveSettings('after.txt'), before)
  const { header, body, footer } = splitTypescript(fs.readFileSync(path.join(dir, 'rec.ts')))
  t.is(HEADER_RE.exec(header)?.[1], `TERM="xterm" TTY="${pane.paneTty}" COLUMNS="100" LINES="30"`)
  const text = body.toString()
  t.true(text.includes('inner> echo hi\r\nhi\r\n'), JSON.stringify(text))
  t.true(text.includes('inner> stty size\r\n40 120\r\n'), JSON.stringify(text))
  t.is(FOOTER_RE.exec(footer)?.[1], '0')
})

linuxOnly(LINUX.tmux, test)('Ctrl-C in tmux reaches the recorded command: exit 130, terminal restored', async (t) => {
  const dir = tempDir(t)
  const pane = await tmuxSession(t, dir)
  const before = await pane.saveSettings('before.txt')

  await pane.type(`${RECORDER} -q -c 'echo ready; sleep 600' rec.ts`)
  await pane.waitForRawMode()
  await pane.waitForScreen(/^ready$/m)
  await pane.tmux('send-keys', '-t', 'rec', 'C-c')
  await pane.waitForRecorderGone()
  await pane.type('echo "status=$?"')
  await pane.waitForScreen(/^status=130$/m)

  t.is(await pane.saveSettings('after.txt'), before)
  const { body, footer } = splitTypescript(fs.readFileSync(path.join(dir, 'rec.ts')))
  t.is(body.toString(), 'ready\r\n^C')
  t.is(FOOTER_RE.exec(footer)?.[1], '130')
})
