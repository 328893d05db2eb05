// napi-pty/node-pty used as node-pty's users use it: VS Code's terminal, the xterm.js demo
// server, and a TypeScript program written against node-pty's typings.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import test from 'ava'
import * as ts from 'typescript'

import * as pty from '../lib/node-pty'
import type { IExitEvent, IPty } from '../lib/node-pty'
import { FIXTURES, PYTHON, waitFor } from './helpers'

/** Everything an IPty prints, and a way to wait for a piece of it. */
class Screen {
  text = ''
  chunks: Array<string | Buffer> = []
  readonly exit: Promise<IExitEvent>
  #waiters: Array<() => void> = []

  constructor(readonly child: IPty) {
    child.onData((data: string | Buffer) => {
      this.chunks.push(data)
      this.text += typeof data === 'string' ? data : data.toString('latin1')
      for (const wake of this.#waiters.splice(0)) wake()
    })
    this.exit = new Promise((resolve) => child.onExit(resolve))
  }

  /** Resolves once the output contains `piece` (found after offset `from`). */
  async until(piece: string, from = 0): Promise<number> {
    for (;;) {
      const at = this.text.indexOf(piece, from)
      if (at >= 0) return at + piece.length
      await new Promise<void>((wake) => this.#waiters.push(wake))
    }
  }
}

/** How much a process has written, from `/proc/<pid>/io`. */
function written(pid: number): number {
  return Number(/^wchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1])
}

const MiB = 1 << 20

test('VS Code: spawn with name, cwd, env, cols, rows and the ConPTY keys false', async (t) => {
  const cwd = fs.realpathSync(os.tmpdir())
  const child = pty.spawn('bash', ['--norc', '--noprofile', '-c', 'echo "[$TERM|$PWD|$VSCODE_X|$(pwd)|$(stty size)]"'], {
    name: 'xterm-256color',
    cwd,
    env: { PATH: process.env.PATH, VSCODE_X: 'yes' },
    cols: 132,
    rows: 43,
    useConpty: false,
    useConptyDll: false,
    conptyInheritCursor: false,
  } as pty.IWindowsPtyForkOptions)
  t.true(Number.isInteger(child.pid) && child.pid > 0)
  t.is(child.cols, 132)
  t.is(child.rows, 43)
  const screen = new Screen(child)
  t.deepEqual(await screen.exit, { exitCode: 0, signal: 0 })
  t.is(screen.text, `[xterm-256color|${cwd}|yes|${cwd}|43 132]\r\n`)
})

test('VS Code: pause above 100,000 unacknowledged characters, resume below 5,000: 64 MiB arrive in order', async (t) => {
  const RECORDS = (64 * MiB) / 8
  // Records of 8 digits, 0 to RECORDS-1: any byte lost, repeated or reordered shows.
  const program = `import sys\nw = sys.stdout.buffer\nfor b in range(0, ${RECORDS}, 8192):\n    w.write(b''.join(b'%08d' % i for i in range(b, min(b + 8192, ${RECORDS}))))\n`
  const child = pty.spawn(PYTHON, ['-I', '-S', '-c', program], { name: 'xterm-256color', cols: 80, rows: 24 })
  let unacked = 0
  let paused = false
  let pauses = 0
  let next = 0
  let carry = ''
  let bad: string | undefined
  const queue: string[] = []
  // The renderer acknowledges what it has drawn, later, in its own turns of the event loop.
  const ack = (): void => {
    const data = queue.shift()
    if (data === undefined) return
    const text = carry + data
    const whole = text.length - (text.length % 8)
    let expected = ''
    for (let i = next; i < next + whole / 8; i++) expected += String(i).padStart(8, '0')
    if (bad === undefined && text.slice(0, whole) !== expected) bad = `records from ${next} differ`
    next += whole / 8
    carry = text.slice(whole)
    unacked -= data.length
    if (paused && unacked < 5000) {
      paused = false
      child.resume()
    }
    if (queue.length > 0) setImmediate(ack)
  }
  child.onData((data) => {
    unacked += data.length
    if (queue.push(data) === 1) setImmediate(ack)
    if (!paused && unacked > 100000) {
      paused = true
      pauses++
      child.pause()
    }
  })
  const exit = await new Promise<IExitEvent>((resolve) => child.onExit(resolve))
  await waitFor(() => queue.length === 0)
  t.deepEqual(exit, { exitCode: 0, signal: 0 })
  t.is(bad, undefined)
  t.is(carry, '')
  t.is(next, RECORDS)
  t.true(pauses > 0, 'the high-water mark was never reached')
})

test('pause(): nothing more is read, so a child flooding the terminal blocks until resume()', async (t) => {
  const child = pty.spawn('head', ['-c', String(1 << 30), '/dev/zero'], {})
  t.teardown(() => child.kill('SIGKILL'))
  let received = 0
  const firstData = new Promise<void>((resolve) =>
    child.onData((data) => {
      received += data.length
      if (received === data.length) {
        child.pause()
        resolve()
      }
    }),
  )
  await firstData
  // While paused, another terminal is read to its end, twice: the reactor has every chance to
  // read what it must not. The flooding child gets no further than the kernel's terminal
  // buffer and the chunks that were already on their way when pause() came, then blocks.
  const drainOther = async (): Promise<void> => {
    const clock = pty.spawn('head', ['-c', String(16 * MiB), '/dev/zero'], { encoding: null })
    let clockBytes = 0
    clock.onData((data) => (clockBytes += data.length))
    await new Promise((resolve) => clock.onExit(resolve))
    t.is(clockBytes, 16 * MiB)
  }
  await drainOther()
  const blockedAt = written(child.pid)
  await drainOther()
  t.is(written(child.pid), blockedAt, 'the paused child went on writing')
  t.true(blockedAt - received < 4 * MiB, `the paused child got ${blockedAt - received} bytes ahead`)
  const before = received
  child.resume()
  await waitFor(() => received > before + 4 * MiB)
  t.true(received > before + 4 * MiB, 'resume() did not bring the output back')
  child.kill('SIGKILL')
  t.deepEqual(await new Promise((resolve) => child.onExit(resolve)), { exitCode: 0, signal: 9 })
})

test('VS Code: process names the foreground process as the shell runs sleep, less, vim and returns', async (t) => {
  const child = pty.spawn('bash', ['--norc', '--noprofile', '-i'], { env: { PATH: process.env.PATH, PS1: '$ ', TERM: 'xterm' } })
  const screen = new Screen(child)
  const seen: string[] = []
  const becomes = async (name: string): Promise<void> => {
    await waitFor(() => child.process === name)
    seen.push(child.process)
  }
  await screen.until('$ ')
  await becomes('bash')
  // What is typed, and the foreground program it makes.
  const steps: Array<[string, string]> = [
    ['sleep 30\r', 'sleep'],
    ['\x03', 'bash'],
    ['less /etc/passwd\r', 'less'],
    ['q', 'bash'],
    ['vim -u NONE -N -n\r', 'vim'],
    ['\x1b:qa!\r', 'bash'],
  ]
  for (const [keys, name] of steps) {
    child.write(keys)
    await becomes(name)
  }
  t.deepEqual(seen, ['bash', 'sleep', 'bash', 'less', 'bash', 'vim', 'bash'])
  child.write('exit 7\r')
  t.deepEqual(await screen.exit, { exitCode: 7, signal: 0 })
  t.is(child.process, 'bash', 'once the child is gone, the name of the file spawned')
})

test('resize: the child sees the new size; after the exit it neither throws nor changes anything', async (t) => {
  const child = pty.spawn('bash', ['--norc', '--noprofile', '-c', 'stty size; read x; stty size'], { cols: 80, rows: 24 })
  const screen = new Screen(child)
  await screen.until('24 80\r\n')
  child.resize(100, 30)
  t.is(child.cols, 100)
  t.is(child.rows, 30)
  child.write('\r')
  await screen.until('30 100\r\n')
  t.deepEqual(await screen.exit, { exitCode: 0, signal: 0 })
  t.notThrows(() => child.resize(120, 50))
  t.is(child.cols, 100)
  t.throws(() => child.resize(0, 10), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' } as never)
  t.throws(() => child.resize('80' as never, 10), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' } as never)
})

test('kill() sends SIGHUP, then onExit has node-pty numbers; kill(name) sends that signal', async (t) => {
  const hup = new Screen(pty.spawn('sleep', ['30'], {}))
  hup.child.kill()
  t.deepEqual(await hup.exit, { exitCode: 0, signal: os.constants.signals.SIGHUP })
  const term = new Screen(pty.spawn('sleep', ['30'], {}))
  term.child.kill('SIGTERM')
  t.deepEqual(await term.exit, { exitCode: 0, signal: os.constants.signals.SIGTERM })
  t.notThrows(() => term.child.kill(), 'kill after the exit does nothing')
  t.throws(() => term.child.kill('SIGNOPE'), { instanceOf: TypeError, code: 'ERR_UNKNOWN_SIGNAL' } as never)
})

test('xterm.js demo server: encoding null gives Buffers, resize with a pixel size, onData disposed', async (t) => {
  const child = pty.spawn('bash', ['--norc', '--noprofile', '-c', 'printf "\\303\\246\\n"; read x; stty size; read y; echo after'], {
    name: 'xterm-color',
    cols: 80,
    rows: 24,
    encoding: null,
  })
  const screen = new Screen(child)
  let disposedGot = 0
  const subscription = child.onData(() => disposedGot++)
  await screen.until('\xc3\xa6\r\n')
  t.true(screen.chunks.every((chunk) => Buffer.isBuffer(chunk)))
  t.deepEqual(Buffer.concat(screen.chunks as Buffer[]).subarray(0, 4), Buffer.from([0xc3, 0xa6, 0x0d, 0x0a]))
  child.resize(90, 30, { width: 900, height: 600 })
  child.write('\r')
  await screen.until('30 90\r\n')
  subscription.dispose()
  const before = disposedGot
  child.write(Buffer.from('\r'))
  await screen.until('after\r\n')
  t.deepEqual(await screen.exit, { exitCode: 0, signal: 0 })
  t.is(disposedGot, before, 'a disposed listener is not called')
})

test('a UTF-8 character split across two reads arrives whole', async (t) => {
  for (let run = 0; run < 5; run++) {
    // "A" and the first byte of æ, then (once the parent has seen "A") the second byte: two
    // writes, two reads, the character cut between them.
    const child = pty.spawn('bash', ['--norc', '--noprofile', '-c', 'stty -echo; printf "A\\303"; read x; printf "\\246B"'], {})
    const screen = new Screen(child)
    await screen.until('A')
    child.write('\r')
    t.deepEqual(await screen.exit, { exitCode: 0, signal: 0 })
    t.is(screen.text, 'AæB')
    t.deepEqual(screen.chunks, ['A', 'æB'])
  }
})

test('exit comes after the last data: every byte of output written just before the exit arrives (50 runs)', async (t) => {
  for (let run = 0; run < 50; run++) {
    const screen = new Screen(pty.spawn('head', ['-c', '100000', '/dev/zero'], { encoding: null }))
    let atExit = -1
    screen.child.onExit(() => (atExit = screen.text.length))
    t.deepEqual(await screen.exit, { exitCode: 0, signal: 0 })
    t.is(atExit, 100000)
  }
})

test('handleFlowControl: XOFF and XON written by the application pause and resume instead of reaching the child', async (t) => {
  // The child reads 3 bytes raw (no flow control of its own, no echo) and prints them in octal.
  const script = 'stty raw -echo; echo ready; head -c 3 | od -An -c'
  for (const handleFlowControl of [true, false]) {
    const child = pty.spawn('bash', ['--norc', '--noprofile', '-c', script], { handleFlowControl })
    t.is(child.handleFlowControl, handleFlowControl)
    const screen = new Screen(child)
    await screen.until('ready')
    child.write('\x13')
    child.write('x')
    child.write('\x11')
    child.write('yz')
    if (handleFlowControl) {
      await screen.until('x   y   z')
    } else {
      await screen.until('023   x 021')
    }
    t.deepEqual(await screen.exit, { exitCode: 0, signal: 0 })
  }
})

test('a program that cannot start reports why as output and exits with 1, as node-pty does', async (t) => {
  const missing = new Screen(pty.spawn('/nonexistent/program', [], {}))
  t.deepEqual(await missing.exit, { exitCode: 1, signal: 0 })
  t.regex(missing.text, /ENOENT.*execve '\/nonexistent\/program'/)
  const badCwd = new Screen(pty.spawn('/bin/echo', [], { cwd: '/nonexistent' }))
  t.deepEqual(await badCwd.exit, { exitCode: 1, signal: 0 })
  t.regex(badCwd.text, /ENOENT.*chdir '\/nonexistent'/)
  t.throws(() => pty.spawn('sh', 'a command line', {}), { instanceOf: TypeError } as never)
  t.throws(() => pty.spawn('sh', [], { name: {} as never }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' } as never)
  t.throws(() => pty.spawn('sh', [], { encoding: 'klingon' }), { instanceOf: TypeError, code: 'ERR_UNKNOWN_ENCODING' } as never)
})

test('destroy() hangs up: the child gets SIGHUP and exit still comes', async (t) => {
  const child = pty.spawn('sleep', ['30'], {}) as pty.UnixTerminal
  const exit = new Promise<IExitEvent>((resolve) => child.onExit(resolve))
  child.destroy()
  t.deepEqual(await exit, { exitCode: 0, signal: os.constants.signals.SIGHUP })
  t.notThrows(() => child.write('late'))
  t.notThrows(() => child.resize(10, 10))
})

test("require('napi-pty/node-pty') is this module, built", (t) => {
  // The package refers to itself by name through its `exports`: the compiled entry, with the
  // same exports as the source this file imports.
  t.is(path.basename(require.resolve('napi-pty/node-pty')), 'node-pty.js')
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  t.deepEqual(Object.keys(require('napi-pty/node-pty') as object).sort(), Object.keys(pty).sort())
})

test("a TypeScript program written against node-pty's typings compiles unchanged against ours under --strict", (t) => {
  const fixture = path.join(FIXTURES, 'node-pty-consumer.ts')
  const compile = (paths: Record<string, string[]> | undefined): string[] => {
    const program = ts.createProgram([fixture], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      types: ['node'],
      baseUrl: path.join(__dirname, '..'),
      // As tsconfig.json: the sources' `../binding` is the typings napi build writes to dist/.
      rootDirs: [path.join(__dirname, '..'), path.join(__dirname, '..', 'dist')],
      paths,
    })
    const files = program.getSourceFiles().map((file) => path.relative(path.join(__dirname, '..'), file.fileName))
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    t.deepEqual(diagnostics, [])
    return files
  }
  // Against node-pty itself: it is a node-pty program.
  t.true(compile(undefined).includes(path.join('node_modules', 'node-pty', 'typings', 'node-pty.d.ts')))
  // Against ours, with node-pty's typings nowhere in the program.
  const ours = compile({ 'node-pty': ['lib/node-pty.ts'] })
  t.true(ours.includes(path.join('lib', 'node-pty.ts')))
  t.false(ours.some((file) => file.includes(path.join('node_modules', 'node-pty'))))
})
