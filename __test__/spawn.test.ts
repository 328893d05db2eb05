import test, { type ExecutionContext } from 'ava'
import * as cp from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { spawn, type ExitStatus, type SpawnOptions } from '../index'
import { LINUX, linuxOnly, runNode, waitFor } from './helpers'
import {
  Outer,
  fifoClosed,
  finished,
  fixture,
  limited,
  mkfifo,
  onceText,
  processExists,
  runPipeline,
  runSpawn,
  startPipeline,
  startTerminalFixture,
  tempDir,
  terminalResult,
  type TerminalRun,
} from './spawn-helpers'

const dir = tempDir()
let files = 0
const OK: ExitStatus = { exitCode: 0, signal: null, status: 0 }
const O_NONBLOCK = 0o4000

/** spawn in this process, with stdin from `input` (a file; default /dev/null) and stdout to a
 * file, whose content comes back with the status. */
async function spawnToFile(argv: string[], options: SpawnOptions & { input?: string } = {}): Promise<{ status: ExitStatus; output: string }> {
  const { input, ...rest } = options
  const outFile = path.join(dir, `out-${files++}`)
  let inFile = '/dev/null'
  if (input !== undefined) {
    inFile = path.join(dir, `in-${files++}`)
    fs.writeFileSync(inFile, input)
  }
  const stdin = fs.openSync(inFile, 'r')
  const stdout = fs.openSync(outFile, 'w')
  try {
    const status = await limited(() => spawn(argv, { stdin, stdout, ...rest }))
    return { status, output: fs.readFileSync(outFile, 'latin1') }
  } finally {
    fs.closeSync(stdin)
    fs.closeSync(stdout)
  }
}

const lines = (n: number): string => Array.from({ length: n }, (_, i) => `${i + 1}\r\n`).join('')

// ---------------------------------------------------------------------------------------------
// The end of the session

test("CPython's test_spawn_doesnt_hang: stdout is a file; spawn returns and the file holds the output", async (t) => {
  const file = path.join(dir, 'doesnt-hang')
  const fd = fs.openSync(file, 'w')
  try {
    // stdin a pipe that stays open and silent: only the child's exit can end the spawn.
    const run = await runSpawn({ tap: true }, ['echo', 'hi there'], { stdio: ['pipe', fd, 'pipe'] })
    t.deepEqual(run.report?.status, OK)
    t.is(run.report?.tapped, 'hi there\r\n')
  } finally {
    fs.closeSync(fd)
  }
  t.is(fs.readFileSync(file, 'latin1'), 'hi there\r\n')
})

test('stdin a pipe that ends: `echo hello | node app cat` prints hello and returns', async (t) => {
  const run = await runPipeline('echo hello | "$NODE" "$FIXTURE" "$PLAN" "$@" | cat', {}, ['cat'])
  t.deepEqual(run.report?.stdio, ['pipe', 'pipe'])
  t.is(run.stdout.toString('latin1'), 'hello\r\nhello\r\n') // the terminal's echo, then cat's
  t.deepEqual(run.report?.status, OK)
  t.is(run.code, 0)
})

test('stdin a pipe that ends mid-line: the pending line is delivered, then EOF', async (t) => {
  const run = await runPipeline('printf hello | "$NODE" "$FIXTURE" "$PLAN" "$@" | cat', {}, ['cat'])
  t.is(run.stdout.toString('latin1'), 'hellohello')
  t.deepEqual(run.report?.status, OK)
})

test('stdin a socket that ends: the child gets EOF', async (t) => {
  const run = await runSpawn({}, ['cat'], { input: 'hello\n' })
  t.deepEqual(run.report?.stdio, ['socket', 'socket'])
  t.is(run.stdout.toString('latin1'), 'hello\r\nhello\r\n')
  t.deepEqual(run.report?.status, OK)
})

test('stdin /dev/null: the child gets EOF at once', async (t) => {
  const run = await runSpawn({}, ['cat'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.deepEqual(run.report?.stdio, ['/dev/null', 'socket'])
  t.is(run.stdout.length, 0)
  t.deepEqual(run.report?.status, OK)
})

test('stdin a closed fd: the child gets EOF at once', async (t) => {
  // In a process of its own: in this one, fd 99 may be opened at any time by another test.
  const run = await runSpawn({ stdin: 99 }, ['cat'])
  t.deepEqual(run.report?.stdio, ['closed', 'socket'])
  t.is(run.stdout.length, 0)
  t.deepEqual(run.report?.status, OK)
})

test('stdin a regular file of 2 MB: every byte reaches the child (it checksums what it read), then EOF', async (t) => {
  const input = lines(320000).replace(/\r/g, '')
  const expected = cp.execFileSync('cksum', { input, encoding: 'latin1' }).trim()
  // Text lines only: the terminal's line discipline passes them unchanged (echo is switched off
  // at once; what it echoed before that does not matter, only the last line is checked).
  const { status, output } = await spawnToFile(['sh', '-c', 'stty -echo; cksum'], { input })
  t.deepEqual(status, OK)
  t.true(output.endsWith(`${expected}\r\n`), output.slice(-80))
  t.true(input.length > 2000000)
})

test('stdin EOF before the child reads: it still gets the input, then EOF (20 runs)', async (t) => {
  for (let i = 0; i < 20; i++) {
    const { status, output } = await spawnToFile(['cat'], { input: 'hello\n' })
    t.deepEqual(status, OK)
    t.is(output, 'hello\r\nhello\r\n')
  }
})

test('spawn resolves only once all output is written, also when the child exits at once (20 runs)', async (t) => {
  for (let i = 0; i < 20; i++) {
    const { status, output } = await spawnToFile(['sh', '-c', 'seq 1 2000; exit 4'])
    t.deepEqual(status, { exitCode: 4, signal: null, status: 4 << 8 })
    t.is(output, lines(2000))
  }
})

test('output for a file waits only a moment: a flood, then silence, is all in the file while the child runs (5 runs)', async (t) => {
  const expected = lines(100000)
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, `paused-${files++}`)
    const stdin = fs.openSync('/dev/null', 'r')
    const stdout = fs.openSync(file, 'w')
    const controller = new AbortController()
    const running = spawn(['sh', '-c', 'seq 1 100000; exec sleep 60'], { stdin, stdout, signal: controller.signal })
    try {
      await waitFor(() => fs.statSync(file).size >= expected.length)
      t.true(fs.readFileSync(file, 'latin1') === expected, `run ${i}: ${fs.statSync(file).size} bytes`)
    } finally {
      controller.abort()
      await t.throwsAsync(running, { name: 'AbortError' })
      fs.closeSync(stdin)
      fs.closeSync(stdout)
    }
  }
})

test('a grandchild that keeps the terminal open does not hang spawn', async (t) => {
  const { status, output } = await spawnToFile(['sh', '-c', 'trap "" HUP; sleep 100 & echo "pid=$!"'])
  t.deepEqual(status, OK)
  const match = /^pid=(\d+)\r\n$/.exec(output)
  t.truthy(match, output)
  const pid = Number(match?.[1])
  t.true(processExists(pid)) // it really was still there, holding the terminal
  process.kill(pid, 'SIGKILL')
})

test('stdout goes away (EPIPE): the child is drained to its end and spawn resolves; no SIGPIPE death', async (t) => {
  const script = '{ "$NODE" "$FIXTURE" "$PLAN" "$@"; echo "app-status=$?" >&2; } | { head -n 1; exec 0<&-; echo reader-gone >&2; }'
  const run = await limited(async () => {
    const child = startPipeline(script, {}, ['sh', '-c', 'echo started; read x; seq 1 100000; exit 7'])
    // The reader has printed `started` and is gone: only now does the child print a lot.
    onceText(child.stderr, /reader-gone/, () => child.stdin?.end('go\n'))
    return finished(child)
  })
  t.is(run.stdout.toString('latin1'), 'started\r\n')
  t.deepEqual(run.report?.stdio, ['socket', 'pipe'])
  t.deepEqual(run.report?.status, { exitCode: 7, signal: null, status: 7 << 8 })
  t.regex(run.stderr, /^app-status=0$/m)
})

linuxOnly(LINUX.devFull, test)('stdout fails (a full device, /dev/full): spawn rejects with ENOSPC from write; the child is hung up and reaped', async (t) => {
  const pidFile = path.join(dir, `pid-${files++}`)
  const stdin = fs.openSync('/dev/null', 'r')
  const stdout = fs.openSync('/dev/full', 'w')
  try {
    const child = ['sh', '-c', 'echo $$ > "$1"; echo started; exec sleep 100', 'sh', pidFile]
    await t.throwsAsync(limited(() => spawn(child, { stdin, stdout })), { code: 'ENOSPC', message: 'ENOSPC: no space left on device, write' })
  } finally {
    fs.closeSync(stdin)
    fs.closeSync(stdout)
  }
  const pid = Number(fs.readFileSync(pidFile, 'utf8'))
  await waitFor(() => !processExists(pid))
  t.false(processExists(pid))
})

linuxOnly(LINUX.prlimit, test)('stdout is a file that reaches RLIMIT_FSIZE: spawn rejects with EFBIG from write, the file holds the bytes up to the limit', async (t) => {
  const file = path.join(dir, `fsize-${files++}`)
  const run = await runNode('spawn-to-file.js', [file, 'head', '-c', '100000', '/dev/zero'], { wrapper: ['prlimit', '--fsize=8192', '--'] })
  t.deepEqual(JSON.parse(run.stdout), { error: { message: 'EFBIG: file too large, write', code: 'EFBIG', errno: -27, syscall: 'write' }, size: 8192 }, run.stderr)
})

test('the same without the limit: spawn resolves and the file holds every byte', async (t) => {
  const file = path.join(dir, `fsize-${files++}`)
  const run = await runNode('spawn-to-file.js', [file, 'head', '-c', '100000', '/dev/zero'])
  t.deepEqual(JSON.parse(run.stdout), { status: OK, size: 100000 }, run.stderr)
})

/** What another spawn() to another file, started while the slow file's call is held, must have
 * done by then: a second file thread takes its write, and ends once idle. */
const OTHER_FILE = { otherFileOutput: 'other file\r\n', otherFileStatus: OK, fileThreadsWhileHeld: 2, fileThreadsAfter: 1 }

/**
 * Runs spawn-slow-file.js with strace holding each `call` on `file` for a while. Under strace
 * every traced call of every process stops for it, so on a loaded machine the other child and
 * the other spawn() can take seconds: a run whose hold ended before they were done
 * (`stillHeld: false`) shows nothing either way, and runs again with the hold doubled, up to
 * 20 s; the last run is what the test judges.
 */
async function heldRun(mode: 'stdin' | 'stdout', file: string) {
  // stdin: spawn's one read of the file is held; stdout: each of its writes.
  const [call, when] = mode === 'stdin' ? ['read', ':when=1'] : ['write', '']
  for (let seconds = 5; ; seconds *= 2) {
    fs.writeFileSync(file, mode === 'stdin' ? 'first\n' : '')
    const strace = ['strace', '-f', '--seccomp-bpf', '-qq', '-o', '/dev/null', '-e', `trace=${call}`, '-e', `inject=${call}:delay_enter=${seconds}s${when}`, '-P', file, '--']
    const run = await runNode('spawn-slow-file.js', [mode, file], { wrapper: strace })
    const seen = JSON.parse(run.stdout)
    if (seen.stillHeld || seconds >= 20) return { run, seen }
  }
}

linuxOnly(LINUX.strace, test)('a slow file as stdout stalls no other pty and no other file: while spawn\'s write to its file is held (strace delays it 5 s or more), another child\'s output and exit arrive, and another spawn() writes its own file', async (t) => {
  const file = path.join(dir, `slow-${files++}`)
  const { run, seen } = await heldRun('stdout', file)
  t.deepEqual(
    seen,
    { otherOutput: 'other\r\n', otherStatus: OK, ...OTHER_FILE, sizeWhenOtherDone: 0, stillHeld: true, status: OK, output: 'first\r\n' },
    run.stderr,
  )
})

linuxOnly(LINUX.strace, test)('a slow file as stdin stalls no other pty and no other file: while spawn\'s read of it is held (strace delays it 5 s or more), another child\'s output and exit arrive, and another spawn() writes its own file', async (t) => {
  const file = path.join(dir, `slow-${files++}`)
  const { run, seen } = await heldRun('stdin', file)
  t.deepEqual(
    { ...seen, output: undefined },
    { otherOutput: 'other\r\n', otherStatus: OK, ...OTHER_FILE, sizeWhenOtherDone: 0, stillHeld: true, status: OK, output: undefined },
    run.stderr,
  )
  // The terminal echoes the line; then the child's answer.
  t.true(seen.output.endsWith('got first\r\n'), JSON.stringify(seen.output))
})

linuxOnly(LINUX.strace, test)('slow writes to a file: output is gathered while each write is held (1 MiB at a time), and the file is exact', async (t) => {
  const file = path.join(dir, `slow-${files++}`)
  const log = path.join(dir, `strace-${files++}`)
  fs.writeFileSync(file, '')
  // Held 1 s each: long enough for the child to fill the next 1 MiB however loaded the machine.
  const strace = ['strace', '-f', '-qq', '-o', log, '-e', 'trace=write', '-e', 'inject=write:delay_enter=1s', '-P', file, '--']
  const run = await runNode('spawn-to-file.js', [file, 'seq', '1', '400000'], { wrapper: strace })
  const expected = lines(400000)
  t.deepEqual(JSON.parse(run.stdout), { status: OK, size: expected.length }, run.stderr)
  t.true(fs.readFileSync(file, 'latin1') === expected)
  // The first chunk, then 1 MiB at a time: 4 or 5 writes. One per read of the master (at most
  // 64 KiB) would make 48 or more.
  const writes = fs.readFileSync(log, 'utf8').split('\n').filter((line) => line.includes('write(')).length
  t.true(writes > 0 && writes <= 8, `${writes} writes`)
})

// ---------------------------------------------------------------------------------------------
// Exit statuses

test('an exit code arrives', async (t) => {
  const { status } = await spawnToFile(['sh', '-c', 'exit 3'])
  t.deepEqual(status, { exitCode: 3, signal: null, status: 3 << 8 })
})

test('a death by signal arrives', async (t) => {
  const { status } = await spawnToFile(['sh', '-c', 'kill -KILL $$'])
  t.deepEqual(status, { exitCode: null, signal: 'SIGKILL', status: 9 })
})

// ---------------------------------------------------------------------------------------------
// Hooks

test('masterRead that taps (returns undefined): output unchanged, and the hook saw every byte', async (t) => {
  const seen: Buffer[] = []
  const { status, output } = await spawnToFile(['seq', '1', '1000'], {
    masterRead: (data) => {
      seen.push(Buffer.from(data))
    },
  })
  t.deepEqual(status, OK)
  t.is(output, lines(1000))
  t.is(Buffer.concat(seen).toString('latin1'), lines(1000))
})

test('masterRead that transforms: its answer is written instead', async (t) => {
  const { status, output } = await spawnToFile(['printf', 'one\\ntwo\\n'], {
    masterRead: (data) => new TextEncoder().encode(data.toString('latin1').toUpperCase()), // a Uint8Array, not a Buffer
  })
  t.deepEqual(status, OK)
  t.is(output, 'ONE\r\nTWO\r\n')
})

test('masterRead that returns an empty buffer: end of output, the child is hung up, spawn resolves', async (t) => {
  let calls = 0
  const { status, output } = await spawnToFile(['sh', '-c', 'echo started; exec sleep 100'], {
    masterRead: () => {
      calls++
      return Buffer.alloc(0)
    },
  })
  t.deepEqual(status, { exitCode: null, signal: 'SIGHUP', status: 1 })
  t.is(output, '')
  t.is(calls, 1)
})

test('masterRead that returns null: end of output, the child is hung up, spawn resolves', async (t) => {
  const { status, output } = await spawnToFile(['sh', '-c', 'echo started; exec sleep 100'], { masterRead: () => null })
  t.deepEqual(status, { exitCode: null, signal: 'SIGHUP', status: 1 })
  t.is(output, '')
})

test('masterRead that throws: spawn rejects with that very error', async (t) => {
  const err = new Error('hook failed')
  const thrown = await t.throwsAsync(
    spawnToFile(['sh', '-c', 'echo started; exec sleep 100'], {
      masterRead: () => {
        throw err
      },
    }),
  )
  t.is(thrown, err)
})

test('masterRead that rejects: spawn rejects with that very error', async (t) => {
  const err = new Error('hook rejected')
  const thrown = await t.throwsAsync(spawnToFile(['sh', '-c', 'echo started; exec sleep 100'], { masterRead: () => Promise.reject(err) }))
  t.is(thrown, err)
})

test('masterRead that returns something else than bytes, a string, null or undefined: spawn rejects with a TypeError', async (t) => {
  await t.throwsAsync(spawnToFile(['echo', 'hi'], { masterRead: () => 42 as unknown as string }), {
    instanceOf: TypeError,
    code: 'ERR_INVALID_RETURN_VALUE',
  })
})

test('an async masterRead: the value its Promise resolves to is written', async (t) => {
  const { status, output } = await spawnToFile(['printf', 'abc\\n'], {
    masterRead: async (data) => {
      await new Promise((resolve) => setImmediate(resolve))
      return data.toString('latin1').toUpperCase()
    },
  })
  t.deepEqual(status, OK)
  t.is(output, 'ABC\r\n')
})

test('chunks reach an async hook one at a time and in order, across many chunks', async (t) => {
  const seen: Buffer[] = []
  let inFlight = 0
  let maxInFlight = 0
  // 290 KB: several chunks, however much one read gathers.
  const { status, output } = await spawnToFile(['seq', '1', '50000'], {
    masterRead: async (data) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      seen.push(Buffer.from(data))
      // Answer after a varying number of turns of the event loop.
      for (let i = 0; i < seen.length % 3; i++) await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      return data
    },
  })
  t.deepEqual(status, OK)
  t.is(maxInFlight, 1)
  t.true(seen.length > 1)
  t.is(Buffer.concat(seen).toString('latin1'), lines(50000))
  t.is(output, lines(50000))
})

test('stdinRead that transforms: the child reads its answer', async (t) => {
  const { status, output } = await spawnToFile(['sh', '-c', 'read x; echo "got:$x"'], {
    input: 'abc\n',
    stdinRead: (data) => data.toString('latin1').toUpperCase(),
  })
  t.deepEqual(status, OK)
  t.is(output, 'ABC\r\ngot:ABC\r\n') // the terminal's echo, then the child's
})

test('stdinRead that returns null: the child gets EOF instead of the input', async (t) => {
  const { status, output } = await spawnToFile(['cat'], { input: 'abc\n', stdinRead: () => null })
  t.deepEqual(status, OK)
  t.is(output, '')
})

test('stdinRead that throws: spawn rejects with that very error', async (t) => {
  const err = new Error('input hook failed')
  const thrown = await t.throwsAsync(
    spawnToFile(['cat'], {
      input: 'abc\n',
      stdinRead: () => {
        throw err
      },
    }),
  )
  t.is(thrown, err)
})

test('a hook that rejects with something else than an Error: spawn rejects with that value', async (t) => {
  const reason = { why: 'not an Error' }
  const outcome = await spawnToFile(['sh', '-c', 'echo started; exec sleep 100'], { masterRead: () => Promise.reject(reason) }).then(
    () => 'resolved',
    (err: unknown) => err,
  )
  t.is(outcome, reason)
})

test("the seed's form spawn(argv, masterRead, stdinRead) takes the hooks", async (t) => {
  // This form cannot choose the fds: it runs in a fixture, on real pipes.
  const run = await runPipeline('echo abc | "$NODE" "$FIXTURE" "$PLAN" "$@" | cat', { tap: true, upperInput: true, positional: true }, [
    'sh',
    '-c',
    'read x; echo "got:$x"',
  ])
  t.is(run.stdout.toString('latin1'), 'ABC\r\ngot:ABC\r\n')
  t.is(run.report?.tapped, 'ABC\r\ngot:ABC\r\n')
  t.deepEqual(run.report?.status, OK)
})

// ---------------------------------------------------------------------------------------------
// Options

test('cwd, env and term reach the child; without a terminal, cols and rows set its size', async (t) => {
  const { status, output } = await spawnToFile(['sh', '-c', 'pwd; echo "$FOO $TERM"; stty size'], {
    cwd: dir,
    env: { PATH: process.env.PATH, FOO: 'bar' },
    term: 'vt100',
    cols: 100,
    rows: 30,
  })
  t.deepEqual(status, OK)
  t.is(output, `${fs.realpathSync(dir)}\r\nbar vt100\r\n30 100\r\n`)
})

test('without a terminal or options, the size is 80x24', async (t) => {
  const { output } = await spawnToFile(['stty', 'size'])
  t.is(output, '24 80\r\n')
})

;(process.getuid?.() === 0 ? test : test.skip)('uid and gid reach the child', async (t) => {
  const { status, output } = await spawnToFile(['sh', '-c', 'id -u; id -g; id -G'], { uid: 65534, gid: 65534 })
  t.deepEqual(status, OK)
  t.is(output, '65534\r\n65534\r\n65534\r\n')
})

// ---------------------------------------------------------------------------------------------
// Abort

test('abort while the child is being started: spawn still rejects with an AbortError (races, repeated)', async (t) => {
  const when: Array<(abort: () => void) => void> = [
    (abort) => abort(),
    (abort) => queueMicrotask(abort),
    (abort) => setImmediate(abort),
  ]
  const devNull = fs.openSync('/dev/null', 'r+')
  t.teardown(() => fs.closeSync(devNull))
  const outcomes = await Promise.all(
    [...when, ...when].map(async (schedule) => {
      const controller = new AbortController()
      // Called directly: the abort must come after spawn() has been called.
      const spawned = spawn(['sleep', '2'], { stdin: devNull, stdout: devNull, signal: controller.signal })
      schedule(() => controller.abort())
      return spawned.then(
        () => 'resolved',
        (err: Error & { code?: string }) => `${err.name} ${err.code}`,
      )
    }),
  )
  t.deepEqual(outcomes, Array(6).fill('AbortError ABORT_ERR'))
})

test('a flowing process.stdin is paused while spawn owns fd 0, and resumed after', async (t) => {
  const run = await limited(async () => {
    const child = cp.spawn(process.execPath, [fixture('flowing.js')])
    onceText(child.stdout, /ready\r\n/, () => child.stdin?.write('two\n'))
    onceText(child.stderr, /resolved/, () => child.stdin?.write('three\n'))
    child.stdin?.write('one\n') // the application's: it then spawns
    return finished(child)
  })
  t.is(run.stdout.toString('latin1'), 'ready\r\ntwo\r\nchild:two\r\n')
  t.regex(run.stderr, /^resolved {"exitCode":0,"signal":null,"status":0}$/m)
  t.deepEqual(run.report, { seen: ['one\n', 'three\n'] })
})

// ---------------------------------------------------------------------------------------------
// Volume

test('`yes | node app cat | head`: streams until the reader stops, with bounded memory, and ends', async (t) => {
  const wanted = 1024 * 1024
  const script = `sh -c 'echo "yes-pid=$$" >&2; exec yes' | "$NODE" "$FIXTURE" "$PLAN" "$@" | { head -c ${wanted}; exec 0<&-; echo reader-gone >&2; }`
  const run = await limited(async () => {
    const child = startPipeline(script, {}, ['cat'], 'ignore')
    let received = 0
    let foreign = 0
    // The reader has had its bytes and is gone; the app goes on. Then end the input, which ends cat.
    onceText(child.stderr, /yes-pid=(\d+)[^]*reader-gone/, (match) => process.kill(Number(match[1]), 'SIGTERM'))
    const done = finished(child, (chunk) => {
      received += chunk.length
      for (const byte of chunk) if (byte !== 0x79 && byte !== 0x0d && byte !== 0x0a) foreign++
    })
    return { ...(await done), received, foreign }
  })
  t.is(run.received, wanted)
  t.is(run.foreign, 0)
  t.deepEqual(run.report?.stdio, ['pipe', 'pipe'])
  t.deepEqual(run.report?.status, OK)
  const rss = run.report?.maxRssKiB as number
  t.true(rss < 150 * 1024, `peak RSS ${rss} KiB`)
})

test('256 MiB through spawn arrive intact', async (t) => {
  const size = 256 * 1024 * 1024
  const zeros = Buffer.alloc(1024 * 1024)
  const run = await limited(async () => {
    const child = startPipeline('"$NODE" "$FIXTURE" "$PLAN" "$@" | cat', {}, ['head', '-c', String(size), '/dev/zero'], 'ignore')
    let received = 0
    let nonZero = 0
    // A few seconds; a loaded machine can make it ten times as many: a generous hang guard.
    const guardMs = 150_000
    const done = finished(
      child,
      (chunk) => {
        received += chunk.length
        for (let i = 0; i < chunk.length; i += zeros.length) {
          const part = chunk.subarray(i, i + zeros.length)
          if (!part.equals(zeros.subarray(0, part.length))) nonZero++
        }
      },
      guardMs,
    )
    return { ...(await done), received, nonZero }
  })
  t.is(run.received, size)
  t.is(run.nonZero, 0)
  t.deepEqual(run.report?.stdio, ['/dev/null', 'pipe'])
  t.deepEqual(run.report?.status, OK)
})

// ---------------------------------------------------------------------------------------------
// The terminal: a Node program on a pty of ours borrows it for spawn

/** The outer terminal's mode now, read from the test's side. */
function modeOf(outer: Outer): string {
  return cp.execFileSync('stty', ['-F', outer.pty.ptsName, '-g'], { encoding: 'utf8' }).trim()
}

/** Waits until the inner child printed `started`, and checks the terminal is raw by then. */
async function startedRaw(t: ExecutionContext, outer: Outer): Promise<{ pid: number }> {
  const before = (await outer.until(/outer-before=([^\r\n]*)\r?\n/))[1]
  await outer.until(/started/)
  t.not(modeOf(outer), before, 'raw mode during the spawn')
  return { pid: Number((await outer.until(/inside-pid=(\d+)/))[1]) }
}

let fifos = 0

/** A child that says `started`, then waits for a hangup. While it lives it holds open the FIFO
 * at `path`: `fifoClosed(path)` resolves once it has ended, whoever reaps it. */
function sleeper(): { argv: string[]; path: string } {
  const where = mkfifo(path.join(dir, `sleeper-${fifos++}`))
  return { argv: ['sh', '-c', 'exec 3<>"$1"; echo "started child=$$"; exec sleep 100', 'sh', where], path: where }
}

function childPid(outer: Outer): number {
  return Number(/started child=(\d+)/.exec(outer.text)?.[1])
}

test('terminal restored when spawn resolves', async (t) => {
  const run = await limited(async () => {
    const outer = await startTerminalFixture('plain', ['sh', '-c', 'echo started; read x; echo "read:$x"'])
    await startedRaw(t, outer)
    outer.write('line\r')
    return terminalResult(outer)
  })
  t.regex(run.outer.text, /read:line/)
  t.deepEqual(JSON.parse(run.inside.result), { status: OK })
  t.is(run.inside.after, run.before)
  t.is(run.after, run.before)
  t.is(run.status, 0)
})

/**
 * Runs the terminal fixture in `mode` with a sleeper child; once that has started (and the
 * terminal is raw), `act` gets the fixture's pid. `childGone` is what the child left in its
 * FIFO once it has ended.
 */
async function interrupted(t: ExecutionContext, mode: string, act: (pid: number, outer: Outer) => void): Promise<TerminalRun & { childGone: string }> {
  const child = sleeper()
  return limited(async () => {
    const outer = await startTerminalFixture(mode, child.argv)
    const { pid } = await startedRaw(t, outer)
    const gone = fifoClosed(child.path)
    act(pid, outer)
    const run = await terminalResult(outer)
    return { ...run, childGone: await gone }
  })
}

/** After a spawn that ended early: the terminal is as it was, inside and after the program,
 * which exited 0, and the child is gone and reaped before the program ended. */
function restoredAndReaped(t: ExecutionContext, run: Awaited<ReturnType<typeof interrupted>>): void {
  t.is(run.inside.after, run.before)
  t.is(run.after, run.before)
  t.is(run.status, 0)
  t.is(run.childGone, '')
  t.false(processExists(childPid(run.outer)))
}

test('terminal restored when a hook throws; the child is hung up', async (t) => {
  // The child's terminal echoes the '!': the hook throws at that chunk.
  const run = await interrupted(t, 'throw', (_, outer) => outer.write('!'))
  t.deepEqual(JSON.parse(run.inside.result), { error: { name: 'Error', message: 'hook failed' } })
  restoredAndReaped(t, run)
})

test('abort mid-run: spawn rejects with an AbortError, the child is gone and the terminal restored', async (t) => {
  const run = await interrupted(t, 'abort', (pid) => process.kill(pid, 'SIGUSR1'))
  t.deepEqual(JSON.parse(run.inside.result), { error: { name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted' } })
  restoredAndReaped(t, run)
})

test('terminal restored when process.exit() is called during spawn', async (t) => {
  const run = await interrupted(t, 'exit', (pid) => process.kill(pid, 'SIGUSR1'))
  t.is(run.status, 7)
  t.false('after' in run.inside)
  t.is(run.after, run.before)
  t.is(run.childGone, '')
})

test('terminal restored when an uncaught exception ends the process during spawn', async (t) => {
  const run = await interrupted(t, 'uncaught', (pid) => process.kill(pid, 'SIGUSR1'))
  t.is(run.status, 1)
  t.regex(run.outer.text, /Error: uncaught during spawn/)
  t.is(run.after, run.before)
  t.is(run.childGone, '')
})

test('SIGTERM to the process: forwarded to the child, terminal restored, the process dies of it', async (t) => {
  const answer = mkfifo(path.join(dir, 'term'))
  // The child ignores the hangup that follows, so that only SIGTERM can make it answer.
  const child = `exec 3<>"$1"; trap "" HUP; trap 'kill $!; echo got-TERM >&3; exit 5' TERM; sleep 30 & echo started; wait; echo no-TERM >&3`
  const run = await limited(async () => {
    const outer = await startTerminalFixture('plain', ['sh', '-c', child, 'sh', answer])
    const { pid } = await startedRaw(t, outer)
    const answered = fifoClosed(answer)
    process.kill(pid, 'SIGTERM')
    return { ...(await terminalResult(outer)), answer: await answered }
  })
  t.is(run.answer, 'got-TERM\n')
  t.is(run.status, 128 + 15)
  t.is(run.after, run.before)
})

for (const [signal, number] of [
  ['SIGHUP', 1],
  ['SIGINT', 2],
] as const) {
  test(`${signal} to the process: terminal restored, the process dies of it`, async (t) => {
    const run = await interrupted(t, 'plain', (pid) => process.kill(pid, signal))
    t.is(run.status, 128 + number)
    t.is(run.after, run.before)
    t.is(run.childGone, '')
  })
}

test('SIGTERM while two spawns run: the process still dies of it, terminal restored', async (t) => {
  const run = await interrupted(t, 'two', (pid) => process.kill(pid, 'SIGTERM'))
  t.is(run.after, run.before)
  t.is(run.childGone, '')
  t.is(run.status, 128 + 15)
})

test('the file status flags of stdin and stdout (a terminal) are left as they were', async (t) => {
  const run = await limited(async () => terminalResult(await startTerminalFixture('plain', ['sh', '-c', 'echo hi'])))
  t.deepEqual(JSON.parse(run.inside.result), { status: OK })
  const octal = (list: string): number[] => list.split(',').map((flags) => parseInt(flags, 8))
  const before = octal(run.inside['flags-before'])
  const after = octal(run.inside['flags-after'])
  t.deepEqual(after, before)
  t.is(after[0] & O_NONBLOCK, 0)
  t.is(after[1] & O_NONBLOCK, 0)
})

test('the file status flags of stdin and stdout (pipes) are left as they were', async (t) => {
  const run = await runPipeline('echo x | "$NODE" "$FIXTURE" "$PLAN" "$@" | cat', { flags: true }, ['cat'])
  t.deepEqual(run.report?.stdio, ['pipe', 'pipe'])
  t.deepEqual(run.report?.status, OK)
  const before = run.report?.flagsBefore as number[]
  t.deepEqual(run.report?.flagsAfter, before)
  t.is(before[0] & O_NONBLOCK, 0)
  t.is(before[1] & O_NONBLOCK, 0)
})

test("the child's terminal starts with the outer terminal's size and follows its resizes", async (t) => {
  // dash's `read` gives up when a trapped signal arrives: read until a line has been read.
  const inner = 'trap "echo winch" WINCH; stty size; echo ready; until read x; do :; done; echo "read:$x"; stty size'
  const run = await limited(async () => {
    const outer = await startTerminalFixture('plain', ['sh', '-c', inner], { cols: 100, rows: 30 })
    await outer.until(/ready\r\n/)
    t.regex(outer.text, /\n30 100\r\nready\r\n/)
    const mark = outer.text.length
    outer.pty.resize(120, 40)
    await outer.until(/winch\r\n/, mark) // the child's terminal has been resized: it got SIGWINCH
    outer.write('line\r')
    return terminalResult(outer)
  })
  t.regex(run.outer.text.slice(run.outer.text.indexOf('ready')), /^ready\r\nwinch\r\nline\r\nread:line\r\n40 120\r\n/)
  t.deepEqual(JSON.parse(run.inside.result), { status: OK })
})

// ---------------------------------------------------------------------------------------------
// The seed's script(1) example

test("the seed's script example records the session in its typescript", async (t) => {
  const file = path.join(dir, 'typescript')
  const run = await limited(async () => {
    const outer = await Outer.start([process.execPath, fixture('script.js'), file], {
      env: { ...process.env, SHELL: '/bin/sh', PS1: '$ ', ENV: undefined },
    })
    await outer.until(/\$ $/)
    outer.write('echo hello-$((6*7))\r')
    await outer.until(/hello-42\r\n\$ $/)
    outer.write('exit\r')
    const exit = await outer.done()
    return { text: outer.text, exit }
  })
  t.deepEqual(run.exit, OK)
  const started = `Script started, file is ${file}\r\n`
  const done = `Script done, file is ${file}\r\n`
  t.true(run.text.startsWith(started))
  t.true(run.text.endsWith(done))
  const session = run.text.slice(started.length, -done.length)
  t.is(session, '$ echo hello-$((6*7))\r\nhello-42\r\n$ exit\r\n')
  const asctime = '[A-Z][a-z]{2} [A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}'
  const recorded = fs.readFileSync(file, 'latin1')
  t.regex(recorded, new RegExp(`^Script started on ${asctime}\\n`))
  t.regex(recorded, new RegExp(`\\nScript done on ${asctime}\\n$`))
  t.is(recorded.slice(recorded.indexOf('\n') + 1, recorded.lastIndexOf('Script done on')), session)
})

// ---------------------------------------------------------------------------------------------
// Bad input

test('hooks that are not functions: TypeError', async (t) => {
  await t.throwsAsync(spawn(['true'], { masterRead: 'no' as unknown as () => undefined }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(spawn(['true'], { stdinRead: 42 as unknown as () => undefined }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

test('stdin and stdout that are not fds: TypeError or RangeError', async (t) => {
  await t.throwsAsync(spawn(['true'], { stdin: '0' as unknown as number }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(spawn(['true'], { stdout: -1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(spawn(['true'], { stdin: 1.5 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
})

test('a signal that is not an AbortSignal: TypeError', async (t) => {
  await t.throwsAsync(spawn(['true'], { signal: {} as AbortSignal }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

test('an already aborted signal: AbortError, no child started, terminal untouched', async (t) => {
  const run = await limited(async () => terminalResult(await startTerminalFixture('aborted', ['sleep', '100'])))
  t.deepEqual(JSON.parse(run.inside.result), { error: { name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted' } })
  t.is(run.inside.children, '')
  t.is(run.inside.after, run.before)
})

test('a missing program: ENOENT, terminal untouched', async (t) => {
  const run = await limited(async () => terminalResult(await startTerminalFixture('plain', ['napi-pty-no-such-program'])))
  const { error } = JSON.parse(run.inside.result) as { error: { code: string } }
  t.is(error.code, 'ENOENT')
  t.is(run.inside.after, run.before)
  t.is(run.after, run.before)
})
