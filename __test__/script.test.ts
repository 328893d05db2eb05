import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { LINUX, linuxOnly } from './helpers'

import {
  FOOTER_RE,
  HEADER_RE,
  cleanEnv,
  napiPty,
  run,
  seqOutput,
  splitTypescript,
  tempDir,
  timingEntries,
} from './script-helpers'

/** Records `command` with our recorder and with util-linux's, both with stdin /dev/null. */
async function compareWithUtilLinux(t: ExecutionContext, command: string, exitCode: number): Promise<void> {
  const dir = tempDir(t)
  const ours = await napiPty(['script', '-q', '-c', command, 'ours'], { cwd: dir })
  const theirs = await run('script', ['-q', '-c', command, 'theirs'], { cwd: dir })
  t.is(theirs.code, 0, theirs.stderr.toString())
  t.deepEqual([ours.code, ours.signal, ours.stderr.toString()], [exitCode, null, ''])

  const mine = splitTypescript(fs.readFileSync(path.join(dir, 'ours')))
  const reference = splitTypescript(fs.readFileSync(path.join(dir, 'theirs')))
  t.true(mine.body.equals(reference.body), `bodies differ:\nours   ${JSON.stringify(mine.body.toString())}\ntheirs ${JSON.stringify(reference.body.toString())}`)
  t.true(mine.body.length > 0)
  // Both headers have the documented form, and name the command the same way.
  for (const { header } of [mine, reference]) {
    t.is(HEADER_RE.exec(header)?.[1], `COMMAND="${command}" <not executed on terminal>`)
  }
  // util-linux's footer agrees on the exit code.
  t.is(FOOTER_RE.exec(mine.footer)?.[1], String(exitCode))
  t.is(FOOTER_RE.exec(reference.footer)?.[1], String(exitCode))
  // With -q, this side shows exactly what was recorded.
  t.true(ours.stdout.equals(mine.body))
}

const commands: Array<[string, string, number]> = [
  ['a tab and two lines', String.raw`printf 'a\tb\n'; echo x`, 0],
  ['a lot of output', 'ls -la /usr/bin; seq 1 30000', 0],
  ['UTF-8 and control sequences', String.raw`printf '\033[1mbold\033[0m é ✓\a\r\n\033[2J\033[H\033]0;title\007end\n'`, 0],
  ['a non-zero exit', 'echo out; exit 3', 3],
  ['a death by SIGTERM', 'echo before; kill -TERM $$', 143],
  ['a death by SIGKILL after a partial line', `printf 'no newline'; kill -KILL $$`, 137],
]
for (const [name, command, exitCode] of commands) {
  linuxOnly(LINUX.utilLinuxScript, test)(`body matches util-linux script byte for byte: ${name}`, compareWithUtilLinux, command, exitCode)
}

linuxOnly(LINUX.utilLinuxScript, test)('timing byte counts add up to the body, and scriptreplay replays it', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '-T', 'timing', '-c', String.raw`seq 1 20000; printf 'é\n'`, 'ts'], { cwd: dir })
  t.is(result.code, 0)
  const { body } = splitTypescript(fs.readFileSync(path.join(dir, 'ts')))
  t.is(body.toString(), `${seqOutput(20000)}é\r\n`)
  const entries = timingEntries(fs.readFileSync(path.join(dir, 'timing'), 'utf8'))
  t.true(entries.length > 1, 'the output (more than 64 KiB) came in one chunk')
  t.is(
    entries.reduce((sum, entry) => sum + entry.bytes, 0),
    body.length,
  )
  const replayed = await run('scriptreplay', ['-m', '0.001', '-d', '1000', '-t', 'timing', 'ts'], { cwd: dir })
  t.is(replayed.code, 0, replayed.stderr.toString())
  // scriptreplay ends its playback with a newline of its own.
  t.true(replayed.stdout.equals(Buffer.concat([body, Buffer.from('\n')])))
})

/** A command whose output has multi-byte characters that chunk boundaries cut in the middle:
 * 180 KB, several chunks however much one read gathers. */
const UTF8_COMMAND = String.raw`stty size; yes 'éé' | head -n 30000; printf '\033[1mfin ✓\033[0m\n'`

interface Cast {
  header: Record<string, unknown>
  events: unknown[]
}

function parseCast(text: string): Cast {
  const lines = text.split('\n')
  if (lines.pop() !== '') throw new Error('asciicast does not end with a newline')
  const [first, ...rest] = lines.map((line) => JSON.parse(line) as unknown)
  return { header: first as Record<string, unknown>, events: rest }
}

function castOutput(events: unknown[]): string {
  return events.map((event) => (event as [number, string, string])[2]).join('')
}

test('asciicast-v2: valid v2 JSON lines whose output equals the typescript body', async (t) => {
  const dir = tempDir(t)
  const cast = await napiPty(['script', '-q', '--format', 'asciicast-v2', '-c', UTF8_COMMAND, 'rec.cast'], { cwd: dir })
  const plain = await napiPty(['script', '-q', '-c', UTF8_COMMAND, 'rec.ts'], { cwd: dir })
  t.deepEqual([cast.code, plain.code], [0, 0])

  const { header, events } = parseCast(fs.readFileSync(path.join(dir, 'rec.cast'), 'utf8'))
  t.is(header.version, 2)
  t.true(Number.isInteger(header.width) && (header.width as number) > 0)
  t.true(Number.isInteger(header.height) && (header.height as number) > 0)
  t.true(events.length > 1)
  let previous = 0
  for (const event of events) {
    t.true(Array.isArray(event) && event.length === 3, JSON.stringify(event))
    const [time, kind, data] = event as unknown[]
    t.is(typeof time, 'number')
    t.true((time as number) >= previous, `time goes back: ${String(time)} after ${previous}`)
    previous = time as number
    t.is(kind, 'o')
    t.is(typeof data, 'string')
  }
  const output = castOutput(events)
  const body = splitTypescript(fs.readFileSync(path.join(dir, 'rec.ts'))).body
  t.is(output, body.toString('utf8'))
  t.false(output.includes('\ufffd'))
  // The child's terminal had the size the header announces.
  t.true(output.startsWith(`${header.height as number} ${header.width as number}\r\n`), output.slice(0, 20))
})

test('replay plays a typescript with its timing file back byte for byte', async (t) => {
  const dir = tempDir(t)
  const recorded = await napiPty(['script', '-q', '-T', 'timing', '-c', UTF8_COMMAND, 'rec.ts'], { cwd: dir })
  t.is(recorded.code, 0)
  const { body } = splitTypescript(fs.readFileSync(path.join(dir, 'rec.ts')))
  const replayed = await napiPty(['replay', 'rec.ts', '--timing', 'timing', '--speed', '1000'], { cwd: dir })
  t.deepEqual([replayed.code, replayed.stderr.toString()], [0, ''])
  t.true(replayed.stdout.equals(body), JSON.stringify(replayed.stdout.subarray(0, 80).toString()))
})

test('replay without a timing file writes the body at once, and says so', async (t) => {
  const dir = tempDir(t)
  await napiPty(['script', '-q', '-c', UTF8_COMMAND, 'rec.ts'], { cwd: dir })
  const { body } = splitTypescript(fs.readFileSync(path.join(dir, 'rec.ts')))
  const replayed = await napiPty(['replay', 'rec.ts'], { cwd: dir })
  t.is(replayed.code, 0)
  t.is(replayed.stderr.toString(), 'napi-pty replay: no timing file (--timing): writing the whole session at once; record with -T FILE to replay at its pace\n')
  t.true(replayed.stdout.equals(body))
})

test('replay plays an asciicast back byte for byte', async (t) => {
  const dir = tempDir(t)
  await napiPty(['script', '-q', '--format', 'asciicast-v2', '-c', UTF8_COMMAND, 'rec.cast'], { cwd: dir })
  await napiPty(['script', '-q', '-c', UTF8_COMMAND, 'rec.ts'], { cwd: dir })
  const { events } = parseCast(fs.readFileSync(path.join(dir, 'rec.cast'), 'utf8'))
  const { body } = splitTypescript(fs.readFileSync(path.join(dir, 'rec.ts')))
  const replayed = await napiPty(['replay', 'rec.cast', '--speed', '1000'], { cwd: dir })
  t.deepEqual([replayed.code, replayed.stderr.toString()], [0, ''])
  t.true(replayed.stdout.equals(Buffer.from(castOutput(events))))
  t.true(replayed.stdout.equals(body))
})

test('piped input drives an interactive shell to its end', async (t) => {
  const dir = tempDir(t)
  const env = cleanEnv({ PS1: 'P> ' })
  const result = await napiPty(['script', '-q', 'out'], { cwd: dir, input: 'echo hi; exit\n', env })
  t.deepEqual([result.code, result.signal, result.stderr.toString()], [0, null, ''])
  const { header, body, footer } = splitTypescript(fs.readFileSync(path.join(dir, 'out')))
  t.is(HEADER_RE.exec(header)?.[1], '<not executed on terminal>')
  // Echo is off: the piped line itself is not in the recording, only the prompt and the output.
  t.is(body.toString(), 'P> hi\r\n')
  t.is(FOOTER_RE.exec(footer)?.[1], '0')
  t.is(result.stdout.toString(), 'P> hi\r\n')
})

test('-c ls with stdin /dev/null ends with exit status 0', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'alpha'), '')
  fs.writeFileSync(path.join(dir, 'beta'), '')
  const result = await napiPty(['script', '-c', 'ls', 'out'], { cwd: dir })
  t.deepEqual([result.code, result.signal, result.stderr.toString()], [0, null, ''])
  t.is(splitTypescript(fs.readFileSync(path.join(dir, 'out'))).body.toString(), 'alpha  beta  out\r\n')
})

test('a child killed by SIGKILL after 1 MB of output: every byte recorded, exit 137', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '-c', 'yes abcdefgh | head -c 1000000; kill -KILL $$', 'out'], { cwd: dir })
  t.deepEqual([result.code, result.signal], [137, null])
  const { body, footer } = splitTypescript(fs.readFileSync(path.join(dir, 'out')))
  // 111111 lines of 9 bytes, then one byte; the terminal turns each \n into \r\n.
  t.is(body.length, 1_000_000 + 111_111)
  t.true(body.equals(Buffer.from('abcdefgh\r\n'.repeat(111_111) + 'a')))
  t.is(FOOTER_RE.exec(footer)?.[1], '137')
})

test('a child that prints a lot and exits at once: 50 recordings, all complete', async (t) => {
  const dir = tempDir(t)
  const expected = seqOutput(5000)
  const runOne = async (i: number): Promise<void> => {
    const file = `out${i}`
    const result = await napiPty(['script', '-q', '-c', 'seq 1 5000', file], { cwd: dir })
    t.is(result.code, 0)
    const { body } = splitTypescript(fs.readFileSync(path.join(dir, file)))
    t.is(body.length, expected.length, `recording ${i}`)
    t.is(body.toString(), expected)
  }
  // Two at a time, like the two cores.
  for (let i = 0; i < 50; i += 2) await Promise.all([runOne(i), runOne(i + 1)])
})

/** Runs a recorder that cannot open a file, checks that it failed up front and ran nothing. */
async function cannotOpen(t: ExecutionContext, args: (dir: string) => string[], named: (dir: string) => string): Promise<void> {
  const dir = tempDir(t)
  const result = await napiPty(['script', ...args(dir), '-c', 'touch ran'], { cwd: dir })
  const stderr = result.stderr.toString()
  t.is(result.signal, null)
  t.not(result.code, 0)
  t.regex(stderr, /^napi-pty script: cannot open /)
  t.true(stderr.includes(named(dir)), stderr)
  t.is(result.stdout.toString(), '')
  t.false(fs.existsSync(path.join(dir, 'ran')), 'the command ran')
}

test('a file in a missing directory: message naming it, non-zero exit, nothing run', cannotOpen, () => ['no/such/dir/out'], () => 'no/such/dir/out')
test('a directory as the file: message naming it, non-zero exit, nothing run', cannotOpen, (dir) => [dir], (dir) => dir)
test('a timing file in a missing directory: message naming it, nothing run', cannotOpen, () => ['-T', 'no/such/timing', 'out'], () => 'no/such/timing')

linuxOnly(LINUX.devFull, test)('a full disk: a message saying so and a non-zero exit', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '-c', 'echo hi', '/dev/full'], { cwd: dir })
  t.is(result.signal, null)
  t.not(result.code, 0)
  t.regex(result.stderr.toString(), /ENOSPC|No space/i)
})

linuxOnly(LINUX.devFull, test)('a full disk under the timing file: a message saying so and a non-zero exit', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '-T', '/dev/full', '-c', 'echo hi', 'out'], { cwd: dir })
  t.is(result.signal, null)
  t.not(result.code, 0)
  t.regex(result.stderr.toString(), /ENOSPC|No space/i)
})

function sessions(file: Buffer): string[] {
  return [...file.toString().matchAll(/^Script started on [^\n]*\n([^]*?)\nScript done on [^\n]*\n/gm)].map((m) => m[1] as string)
}

test('-a appends a second session after the first', async (t) => {
  const dir = tempDir(t)
  await napiPty(['script', '-q', '-c', 'echo one', 'out'], { cwd: dir })
  const second = await napiPty(['script', '-q', '-a', '-c', 'echo two', 'out'], { cwd: dir })
  t.is(second.code, 0)
  t.deepEqual(sessions(fs.readFileSync(path.join(dir, 'out'))), ['one\r\n', 'two\r\n'])
})

test('without -a a second recording replaces the first', async (t) => {
  const dir = tempDir(t)
  await napiPty(['script', '-q', '-c', 'echo one', 'out'], { cwd: dir })
  await napiPty(['script', '-q', '-c', 'echo two', 'out'], { cwd: dir })
  t.deepEqual(sessions(fs.readFileSync(path.join(dir, 'out'))), ['two\r\n'])
})

test('without -q the start and done lines frame the output', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-c', 'echo hi', 'out'], { cwd: dir })
  t.is(result.stdout.toString(), 'Script started, file is out\nhi\r\nScript done, file is out\n')
})

test('-q prints no start and done lines', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '-c', 'echo hi', 'out'], { cwd: dir })
  t.is(result.stdout.toString(), 'hi\r\n')
})

test('-p runs the command in Node', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '-p', '-c', 'console.log(6*7)', 'out'], { cwd: dir })
  t.deepEqual([result.code, result.stderr.toString()], [0, ''])
  const { header, body } = splitTypescript(fs.readFileSync(path.join(dir, 'out')))
  t.is(HEADER_RE.exec(header)?.[1], 'COMMAND="console.log(6*7)" <not executed on terminal>')
  // Node colours numbers on a terminal; the text is what counts.
  // eslint-disable-next-line no-control-regex
  t.is(body.toString().replace(/\x1b\[\d*m/g, ''), '42\r\n')
})

test('-f records everything, with its timing', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '-f', '-T', 'timing', '-c', 'seq 1 20000', 'out'], { cwd: dir })
  t.is(result.code, 0)
  const { body } = splitTypescript(fs.readFileSync(path.join(dir, 'out')))
  t.is(body.toString(), seqOutput(20000))
  const entries = timingEntries(fs.readFileSync(path.join(dir, 'timing'), 'utf8'))
  t.is(
    entries.reduce((sum, entry) => sum + entry.bytes, 0),
    body.length,
  )
})

// A regression once: after one small chunk every later read was as small (the hook's answer
// replaced the lane's buffer), so 1 MB took a million reads, hook calls and timing lines.
test('output after a small chunk is still read in large chunks, not byte by byte', async (t) => {
  const dir = tempDir(t)
  // The child prints a lone chunk, waits until the recorder has it in the file, then a lot more.
  // (The patterns M[R]K and M''RK do not match the command line in the header.)
  const command = String.raw`printf 'M''RK\n'; until grep -q 'M[R]K' out; do sleep 0.01; done; seq 1 5000`
  const result = await napiPty(['script', '-q', '-T', 'timing', '-c', command, 'out'], { cwd: dir })
  t.is(result.code, 0)
  const { body } = splitTypescript(fs.readFileSync(path.join(dir, 'out')))
  t.is(body.toString(), `MRK\r\n${seqOutput(5000)}`)
  const entries = timingEntries(fs.readFileSync(path.join(dir, 'timing'), 'utf8'))
  t.is(entries[0]?.bytes, 5)
  // The output is ~24 KB: a reader taking what is there, up to its buffer's size, needs a few
  // reads; one read per 64 bytes on average is already far too many.
  t.true(entries.length < body.length / 64, `${entries.length} reads for ${body.length} bytes`)
})
