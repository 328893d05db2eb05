// The recorder's util-linux options (-E, -o, -m, -I/-O/-B with piped input), replay --summary
// and --stream, asciicast v3 resizes, and the command-line mistakes they refuse.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

import { napiPty, recordResize, run, splitTypescript, tempDir } from './script-helpers'

test('convert --help, and the global help names convert', async (t) => {
  const dir = tempDir(t)
  const convert = await napiPty(['convert', '--help'], { cwd: dir })
  t.is(convert.code, 0)
  t.regex(convert.stdout.toString(), /^Usage: napi-pty convert \[options\] IN OUT/)
  t.regex((await napiPty(['--help'], { cwd: dir })).stdout.toString(), /napi-pty convert \[options\] IN OUT/)
  const script = (await napiPty(['script', '--help'], { cwd: dir })).stdout.toString()
  for (const flag of ['--log-in FILE', '--log-out FILE', '--log-io FILE', '--logging-format', '--echo WHEN', '--output-limit SIZE', '--idle-time-limit S', 'asciicast-v2']) {
    t.true(script.includes(flag), flag)
  }
})

const MISTAKES: Array<[string[], RegExp]> = [
  [['script', '-m', 'fancy'], /--logging-format must be one of classic, advanced, got fancy/],
  [['script', '-E', 'sometimes'], /--echo must be one of auto, always, never, got sometimes/],
  [['script', '-o', '12Q'], /--output-limit must be a size such as 100K, got 12Q/],
  [['script', '--idle-time-limit=-1'], /--idle-time-limit must be a positive number of seconds, got -1/],
  [['script', '-i', '0'], /--idle-time-limit must be a positive number of seconds, got 0/],
  [['script', '--format', 'asciicast', '-B', 'x'], /--format asciicast writes one file with its own timing/],
  [['script', '-a', '--format', 'asciicast', 'x.cast'], /--append adds to typescript logs; --format asciicast would replace the file/],
  [['script', '-B', 'x', '-O', 'y'], /--log-io logs both streams/],
  [['script', '-O', 'x', 'y'], /--log-out and file name two different output logs/],
  [['replay', '--stream', 'both', 'f'], /--stream must be one of out, in, io, got both/],
  [['replay', '--maxdelay', 'soon', 'f'], /--maxdelay must be a number of seconds, got soon/],
  [['convert', 'only-one'], /convert takes IN and OUT, got 1 file\(s\)/],
]

for (const [args, message] of MISTAKES) {
  test(`${args.join(' ')}: refused with the usage, exit 2, nothing run or written`, async (t) => {
    const dir = tempDir(t)
    const result = await napiPty(args, { cwd: dir })
    t.is(result.code, 2)
    t.regex(result.stderr.toString(), new RegExp(`^napi-pty: ${message.source}[^]*\\nUsage: napi-pty ${args[0] as string} `))
    t.deepEqual(fs.readdirSync(dir), [])
  })
}

test('-o stops the command once the logs pass the limit, as util-linux does', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-o', '2K', '-T', 'tim', '-c', 'yes', 'out'], { cwd: dir })
  t.is(result.code, 1)
  t.regex(result.stdout.toString(), /Script terminated, max output files size 2048 exceeded\.\n$/)
  const file = fs.readFileSync(path.join(dir, 'out'))
  const { body, footer } = splitTypescript(file)
  const timing = fs.readFileSync(path.join(dir, 'tim'))
  t.true(body.length + timing.length > 2048)
  t.regex(footer, /\[<max output size exceeded>\]\n$/)
  t.true(body.toString().startsWith('y\r\ny\r\n'))
})

test('-E always echoes piped input into the log as util-linux script does; auto and never do not', async (t) => {
  const dir = tempDir(t)
  const command = 'read x; echo "got $x"'
  const ul = await run('script', ['-q', '-E', 'always', '-c', command, 'ul'], { cwd: dir, input: 'one\n' })
  t.is(ul.code, 0)
  const ours = await napiPty(['script', '-q', '-E', 'always', '-c', command, 'ours'], { cwd: dir, input: 'one\n' })
  t.is(ours.code, 0)
  const body = (name: string): string => splitTypescript(fs.readFileSync(path.join(dir, name))).body.toString()
  t.is(body('ours'), body('ul'))
  t.is(body('ours'), 'one\r\ngot one\r\n')
  for (const mode of ['auto', 'never']) {
    await napiPty(['script', '-q', '-E', mode, '-c', command, mode], { cwd: dir, input: 'one\n' })
    t.is(body(mode), 'got one\r\n', mode)
  }
})

test('-B with piped input: replay --summary tells the streams, --stream plays each', async (t) => {
  const dir = tempDir(t)
  const recorded = await napiPty(['script', '-q', '-E', 'always', '-B', 'io', '-T', 'tim', '-c', 'read x; echo "got $x"; exit 2'], { cwd: dir, input: 'one\n' })
  t.is(recorded.code, 2)
  t.regex(fs.readFileSync(path.join(dir, 'tim'), 'utf8'), /^H 0\.000000 START_TIME [^\n]+\nH 0\.000000 SHELL \/bin\/sh\nH 0\.000000 COMMAND read x; echo "got \$x"; exit 2\nH 0\.000000 TIMING_LOG tim\nH 0\.000000 OUTPUT_LOG io\nH 0\.000000 INPUT_LOG io\nI \d+\.\d{6} 4\n(O \d+\.\d{6} \d+\n)+H 0\.000000 DURATION \d+\.\d{6}\nH 0\.000000 EXIT_CODE 2\n$/)
  const summary = await napiPty(['replay', '--summary', '-T', 'tim', 'io'], { cwd: dir })
  t.is(summary.code, 0)
  const text = summary.stdout.toString()
  t.regex(text, /^file: io\nformat: typescript\n/)
  t.regex(text, /\noutput: \d+ writes, 14 bytes\ninput: 1 writes, 4 bytes\nexit code: 2\n/)
  t.regex(text, /\nEXIT_CODE: 2\n$/)
  const play = async (stream: string): Promise<string> => (await napiPty(['replay', '--stream', stream, '-T', 'tim', 'io'], { cwd: dir })).stdout.toString()
  t.is(await play('out'), 'one\r\ngot one\r\n')
  t.is(await play('in'), 'one\n')
  t.is(await play('io'), 'one\none\r\ngot one\r\n')
  // A cast recorded without --capture-input has no input to play: asking for it says so.
  await napiPty(['script', '-q', '--format', 'asciicast', '-c', 'echo hi', 'c.cast'], { cwd: dir })
  const wrong = await napiPty(['replay', '--stream', 'in', 'c.cast'], { cwd: dir })
  t.deepEqual([wrong.code, wrong.stdout.length], [1, 0])
  t.regex(wrong.stderr.toString(), /^napi-pty: c\.cast holds no input stream/)
})

test('an asciicast v3 recording records a resize of its terminal as an "r" event', async (t) => {
  const dir = tempDir(t)
  const { exitCode, lines } = await recordResize(dir, 'asciicast')
  t.is(exitCode, 0)
  t.deepEqual((JSON.parse(lines[0] as string) as { term: unknown }).term, { cols: 80, rows: 24, type: 'xterm' })
  const events = lines.slice(1).map((line) => JSON.parse(line) as [number, string, string])
  t.deepEqual(events.filter((e) => e[1] === 'r').map((e) => e[2]), ['120x40'])
  const r = events.findIndex((e) => e[1] === 'r')
  t.true(r >= 0 && events.findIndex((e) => e[1] === 'o' && e[2].includes('40 120')) > r)
  t.deepEqual(events.at(-1)?.slice(1), ['x', '0'])
})

test('--capture-input records "i" events in a cast, and replay --stream in plays them', async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['script', '-q', '--format', 'asciicast', '--capture-input', '-c', 'read x; echo "got $x"', 'in.cast'], { cwd: dir, input: 'one\n' })
  t.is(result.code, 0)
  const events = fs.readFileSync(path.join(dir, 'in.cast'), 'utf8').trimEnd().split('\n').slice(1).map((line) => JSON.parse(line) as [number, string, string])
  t.deepEqual(events.filter((e) => e[1] === 'i').map((e) => e[2]), ['one\n'])
  const played = await napiPty(['replay', '--stream', 'in', 'in.cast'], { cwd: dir })
  t.deepEqual([played.code, played.stdout.toString()], [0, 'one\n'])
})
