// The recorder's asciicast v3 (and v2) output: its form, its times, the exit event, the idle
// limit, what a SIGKILL leaves behind, and asciinema 3 reading it (skipped, by name, when
// scripts/asciinema.sh could not install asciinema).

import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { fork } from '../index'
import { ASCIINEMA_MISSING, asciinemaConvert, rawPrefix } from './recorder-helpers'
import { BIN, cleanEnv, napiPty, splitTypescript, tempDir, timingEntries } from './script-helpers'

const withAsciinema = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => {
  if (ASCIINEMA_MISSING) test.skip(`${title} [skipped: ${ASCIINEMA_MISSING}]`, fn)
  else test(title, fn)
}

/** The lines of a cast file: the header object and the events, each checked for its form. */
function readCast(file: string): { header: Record<string, unknown>; events: Array<[string, string, string]>; text: string } {
  const text = fs.readFileSync(file, 'utf8')
  const lines = text.split('\n')
  if (lines.pop() !== '') throw new Error(`${file} does not end with a newline`)
  const header = JSON.parse(lines[0] as string) as Record<string, unknown>
  const events = lines.slice(1).map((line) => {
    // asciinema 3's form: an interval with three decimals, a code, a JSON string.
    const match = /^\[(\d+\.\d{3}|\d+\.\d{6}), ("[a-z]"), (".*")\]$/.exec(line)
    if (!match) throw new Error(`not an event line: ${line}`)
    return [match[1], JSON.parse(match[2] as string), JSON.parse(match[3] as string)] as [string, string, string]
  })
  return { header, events, text }
}

const output = (events: Array<[string, string, string]>): string =>
  events.filter((e) => e[1] === 'o').map((e) => e[2]).join('')

const SESSION = String.raw`stty size; printf 'é%.0s' $(seq 1 300); printf '\n\033[1mbold\033[0m ✓\n'; exit 3`

test('v3: header with term, timestamp and command; intervals in ms; the exit status last', async (t) => {
  const dir = tempDir(t)
  const before = Math.floor(Date.now() / 1000)
  const result = await napiPty(['script', '-q', '--format', 'asciicast', '-c', SESSION, 'rec.cast'], { cwd: dir })
  t.is(result.code, 3)
  const { header, events, text } = readCast(path.join(dir, 'rec.cast'))
  t.deepEqual(Object.keys(header), ['version', 'term', 'timestamp', 'command', 'env'])
  t.deepEqual(header.term, { cols: 80, rows: 24, type: 'xterm' })
  t.is(header.command, SESSION)
  t.true((header.timestamp as number) >= before && (header.timestamp as number) <= Math.ceil(Date.now() / 1000))
  t.true(events.every((e) => /^\d+\.\d{3}$/.test(e[0])), text)
  t.deepEqual(events.at(-1)?.slice(1), ['x', '3'])
  t.is(output(events), `24 80\r\n${'é'.repeat(300)}\r\n\x1b[1mbold\x1b[0m ✓\r\n`)
  // Our own replay plays what was recorded.
  const replayed = await napiPty(['replay', '--speed', '1000', 'rec.cast'], { cwd: dir })
  t.deepEqual([replayed.code, replayed.stderr.toString()], [0, ''])
  t.is(replayed.stdout.toString(), output(events))
})

test('a signal death is recorded as 128 + N in the exit event', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '--format', 'asciicast', '-c', 'echo x; kill -TERM $$', 'rec.cast'], { cwd: dir })
  t.is(result.code, 143)
  t.deepEqual(readCast(path.join(dir, 'rec.cast')).events.at(-1)?.slice(1), ['x', '143'])
})

/** Records SESSION with our recorder inside our recorder: the outer typescript holds exactly
 * the bytes the inner recorder passed through, which its cast must hold too. */
async function nested(dir: string, format: string): Promise<Buffer> {
  const inner = `'${process.execPath}' '${BIN}' script -q --format ${format} -c "$INNER" rec.cast`
  const result = await napiPty(['script', '-q', '-c', inner, 'outer.ts'], { cwd: dir, env: cleanEnv({ INNER: SESSION }) })
  if (result.code !== 3) throw new Error(`nested recording: exit ${result.code}: ${result.stderr.toString()}`)
  return splitTypescript(fs.readFileSync(path.join(dir, 'outer.ts'))).body
}

for (const format of ['asciicast', 'asciicast-v2']) {
  test(`${format}: the output events are the typescript recorded in the same run, byte for byte`, async (t) => {
    const dir = tempDir(t)
    const body = await nested(dir, format)
    const { header, events } = readCast(path.join(dir, 'rec.cast'))
    t.is(header.version, format === 'asciicast' ? 3 : 2)
    t.true(Buffer.from(output(events)).equals(body))
    t.true(body.includes('bold'))
  })

  withAsciinema(`${format}: asciinema convert -f raw gives the typescript recorded in the same run`, async (t) => {
    const dir = tempDir(t)
    const body = await nested(dir, format)
    const raw = await asciinemaConvert(dir, 'raw', 'rec.cast')
    t.true(raw.equals(Buffer.concat([rawPrefix(80, 24), body])), JSON.stringify(raw.subarray(0, 40).toString()))
  })

  withAsciinema(`${format}: asciinema convert -f txt equals our convert to .txt`, async (t) => {
    const dir = tempDir(t)
    const result = await napiPty(['script', '-q', '--format', format, '-c', String.raw`printf 'one\n\033[31mtwo\033[0m\n  three  \n'; printf 'x\ry\n'`, 'rec.cast'], { cwd: dir })
    t.is(result.code, 0)
    const converted = await napiPty(['convert', 'rec.cast', 'ours.txt'], { cwd: dir })
    t.deepEqual([converted.code, converted.stderr.toString()], [0, ''])
    const ours = fs.readFileSync(path.join(dir, 'ours.txt'), 'utf8')
    t.is(ours, 'one\ntwo\n  three\ny\n')
    t.is((await asciinemaConvert(dir, 'txt', 'rec.cast')).toString(), ours)
  })
}

test('--idle-time-limit shortens long pauses in a cast and in a timing file, and says so in the header', async (t) => {
  const dir = tempDir(t)
  const command = 'echo a; sleep 1; echo b'
  const limited = await napiPty(['script', '-q', '-i', '0.2', '--format', 'asciicast', '-c', command, 'rec.cast'], { cwd: dir })
  t.is(limited.code, 0)
  const { header, events } = readCast(path.join(dir, 'rec.cast'))
  t.is(header.idle_time_limit, 0.2)
  // Rounding to milliseconds carries its error forward: one interval may be a millisecond over.
  t.true(events.every((e) => Number(e[0]) <= 0.201), JSON.stringify(events))
  t.is(output(events), 'a\r\nb\r\n')

  const timed = await napiPty(['script', '-q', '--idle-time-limit', '0.2', '-T', 'timing', '-c', command, 'rec.ts'], { cwd: dir })
  t.is(timed.code, 0)
  const entries = timingEntries(fs.readFileSync(path.join(dir, 'timing'), 'utf8'))
  t.true(entries.every((e) => e.delay <= 0.2), JSON.stringify(entries))

  // Without the limit the pause is there. Not a full second between the two events: `a` may be
  // read late on a loaded machine, which shortens the gap that follows it; but far over 0.2 s.
  await napiPty(['script', '-q', '--format', 'asciicast', '-c', command, 'free.cast'], { cwd: dir })
  t.true(readCast(path.join(dir, 'free.cast')).events.some((e) => Number(e[0]) >= 0.5))
})

/** Runs our recorder on a pty, waits for `ready` on its screen, and SIGKILLs it. */
async function killMidSession(dir: string): Promise<void> {
  const recorder = await fork([process.execPath, BIN, 'script', '-q', '--format', 'asciicast', '-c', 'printf "one\\n"; echo ready; exec cat', 'rec.cast'], {
    cwd: dir,
    env: cleanEnv(),
  })
  let seen = ''
  for await (const chunk of recorder) {
    seen += String(chunk)
    if (seen.includes('ready')) {
      process.kill(recorder.pid, 'SIGKILL')
      break
    }
  }
  const status = await recorder.wait()
  if (status.signal !== 'SIGKILL') throw new Error(`the recorder ended with ${JSON.stringify(status)}`)
}

test('a recorder killed by SIGKILL leaves every event it had shown, as whole lines', async (t) => {
  const dir = tempDir(t)
  await killMidSession(dir)
  const { header, events } = readCast(path.join(dir, 'rec.cast'))
  t.is(header.version, 3)
  t.is(output(events), 'one\r\nready\r\n')
  t.false(events.some((e) => e[1] === 'x'))
  // Our own tools read it to its last event.
  const converted = await napiPty(['convert', 'rec.cast', 'rec.txt'], { cwd: dir })
  t.is(converted.code, 0)
  t.is(fs.readFileSync(path.join(dir, 'rec.txt'), 'utf8'), 'one\nready\n')
})

withAsciinema('a recorder killed by SIGKILL leaves a file asciinema convert reads to its last event', async (t) => {
  const dir = tempDir(t)
  await killMidSession(dir)
  const raw = await asciinemaConvert(dir, 'raw', 'rec.cast')
  t.is(raw.toString(), `${rawPrefix(80, 24).toString()}one\r\nready\r\n`)
})

withAsciinema('asciinema convert to asciicast-v3 writes our v3 event lines back unchanged', async (t) => {
  const dir = tempDir(t)
  // Pauses of all lengths, so that the millisecond rounding and its carried error show.
  const command = 'for i in 1 2 3 4 5 6; do echo $i; sleep 0.0$i; done; exit 2'
  const result = await napiPty(['script', '-q', '--format', 'asciicast', '-c', command, 'rec.cast'], { cwd: dir })
  t.is(result.code, 2)
  const ours = fs.readFileSync(path.join(dir, 'rec.cast'), 'utf8').split('\n')
  const theirs = (await asciinemaConvert(dir, 'asciicast-v3', 'rec.cast')).toString().split('\n')
  t.deepEqual(theirs.slice(1), ours.slice(1))
  t.deepEqual(JSON.parse(theirs[0] as string), JSON.parse(ours[0] as string))
})
