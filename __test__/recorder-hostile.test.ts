// Bad recordings, hand-made and generated: replay and convert give one typed error naming the
// file and line, write nothing, never hang; and a playback puts back the terminal modes the
// recording switched on.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'
import { Terminal } from '@xterm/headless'

import { fork } from '../index'
import { RecordingError } from '../cli/recorded'
import { readRecording } from '../cli/recording'
import { ModeTracker } from '../cli/replay'
import { BIN, napiPty, tempDir } from './script-helpers'

// fast-check's typings resolve only under node16 module resolution, which this project's
// tsconfig does not use (as stress/hostile.js, it is loaded untyped; the callbacks say their types).
const fc = require('fast-check') as any
type Arbitrary<T> = { map<U>(f: (value: T) => U): Arbitrary<U> }

const TS_HEADER = 'Script started on 2026-01-01 00:00:00+00:00 [<not executed on terminal>]\n'
const V3 = '{"version": 3, "term": {"cols": 80, "rows": 24}}\n'

interface Case {
  name: string
  files: Record<string, string | Buffer>
  /** The recording (and its timing file, if any) as replay/convert take them. */
  args: string[]
  error: RegExp
}

const CASES: Case[] = [
  { name: 'an empty file', files: { f: '' }, args: ['f'], error: /^f is not a recording/ },
  { name: 'binary garbage', files: { f: Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 0x1b]) }, args: ['f'], error: /^f is not a recording/ },
  { name: 'a header that is not JSON', files: { f: '{"version": 3, "term": \n' }, args: ['f'], error: /^f: line 1: the header is not JSON/ },
  { name: 'a header that is an array', files: { f: '{}\n' }, args: ['f'], error: /^f: line 1: asciicast version undefined is not supported/ },
  { name: 'a truncated last line', files: { f: `${V3}[0.1, "o", "a"]\n[0.2, "o", "b` }, args: ['f'], error: /^f: line 3: the last line \(truncated\?\) is not JSON/ },
  { name: 'an event that is not an array', files: { f: `${V3}{"a": 1}\n` }, args: ['f'], error: /^f: line 2 is not an asciicast event/ },
  { name: 'a negative interval', files: { f: `${V3}[-1, "o", "a"]\n` }, args: ['f'], error: /^f: line 2: interval -1 is not a time/ },
  { name: 'an absurd interval', files: { f: `${V3}[1e12, "o", "a"]\n` }, args: ['f'], error: /^f: line 2: interval 1000000000000 is not a time/ },
  { name: 'intervals adding up past a week', files: { f: `${V3}${'[500000, "o", "a"]\n'.repeat(3)}` }, args: ['f'], error: /^f: line 3: the recording runs past 604800 seconds/ },
  { name: 'a v2 time that goes back', files: { f: '{"version": 2, "width": 80, "height": 24}\n[2, "o", "a"]\n[1, "o", "b"]\n' }, args: ['f'], error: /^f: line 3: time 1 goes back/ },
  { name: 'a header that lies about the size', files: { f: '{"version": 2, "width": 100000, "height": 24}\n' }, args: ['f'], error: /^f: line 1: terminal size 100000x24 is not a size/ },
  { name: 'a zero-row terminal', files: { f: '{"version": 3, "term": {"cols": 80, "rows": 0}}\n' }, args: ['f'], error: /^f: line 1: terminal size 80x0/ },
  { name: 'a resize to nonsense', files: { f: `${V3}[0.1, "r", "axb"]\n` }, args: ['f'], error: /^f: line 2: resize "axb" is not COLSxROWS/ },
  { name: 'a resize too large', files: { f: `${V3}[0.1, "r", "99999x10"]\n` }, args: ['f'], error: /^f: line 2: terminal size 99999x10/ },
  { name: 'a typescript without a header end', files: { f: 'Script started on 2026' }, args: ['f'], error: /^f: line 1: the header line has no end/ },
  { name: 'a timing file past its typescript', files: { f: `${TS_HEADER}abc\n`, tim: '0.1 2\n0.2 100\n' }, args: ['-t', 'tim', 'f'], error: /^tim: line 2 runs past the end of f \(102 bytes of 4\)/ },
  { name: 'a negative delay', files: { f: `${TS_HEADER}abc\n`, tim: '-0.5 3\n' }, args: ['-t', 'tim', 'f'], error: /^tim: line 1 is not a timing entry/ },
  { name: 'an absurd delay', files: { f: `${TS_HEADER}abc\n`, tim: '99999999 3\n' }, args: ['-t', 'tim', 'f'], error: /^tim: line 1: delay 99999999 is not a time/ },
  { name: 'an unknown record type', files: { f: `${TS_HEADER}abc\n`, tim: 'O 0.1 1\nX 0.1 1\n' }, args: ['-t', 'tim', 'f'], error: /^tim: line 2: entry type X is none of I, O, S, H/ },
  { name: 'a byte count that is not one', files: { f: `${TS_HEADER}abc\n`, tim: 'O 0.1 lots\n' }, args: ['-t', 'tim', 'f'], error: /^tim: line 1: byte count "lots" is not a number/ },
  { name: 'a missing file', files: {}, args: ['nope'], error: /^nope: cannot read: ENOENT/ },
  { name: 'a directory', files: { 'd/x': '' }, args: ['d'], error: /^d: cannot read: it is a directory/ },
]

for (const c of CASES) {
  test(`replay and convert refuse ${c.name}: one line naming the file, nothing written`, async (t) => {
    const dir = tempDir(t)
    for (const [name, data] of Object.entries(c.files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
      fs.writeFileSync(path.join(dir, name), data)
    }
    for (const args of [['replay', ...c.args], ['convert', ...c.args, 'out.txt'], ['convert', ...c.args, 'out.cast']]) {
      const result = await napiPty(args, { cwd: dir })
      t.is(result.code, 1, args.join(' '))
      t.is(result.stdout.length, 0)
      const stderr = result.stderr.toString()
      t.regex(stderr, /^napi-pty: [^\n]*\n$/, 'one line')
      t.regex(stderr.slice('napi-pty: '.length), c.error)
    }
    t.false(fs.existsSync(path.join(dir, 'out.txt')) || fs.existsSync(path.join(dir, 'out.cast')))
  })
}

/** readRecording either reads the file or throws a RecordingError naming it: nothing else. */
function readsOrRefuses(dir: string, data: string | Buffer, timing?: string): void {
  const file = path.join(dir, 'rec')
  fs.writeFileSync(file, data)
  if (timing !== undefined) fs.writeFileSync(path.join(dir, 'tim'), timing)
  try {
    const recording = readRecording(file, { timing: timing === undefined ? undefined : path.join(dir, 'tim') })
    let previous = 0
    for (const event of recording.events) {
      if (!Number.isFinite(event.us) || event.us < previous) throw new Error(`time goes back: ${event.us}`)
      previous = event.us
    }
    if (!(recording.cols >= 1 && recording.cols <= 1000 && recording.rows >= 1 && recording.rows <= 1000)) throw new Error('size')
  } catch (err) {
    if (!(err instanceof RecordingError) || err.code !== 'ERR_BAD_RECORDING' || !err.message.startsWith(file.replace(/rec$/, ''))) throw err
  }
}

const VALID_CAST = `${V3}[0.100, "o", "hello\\r\\n"]\n[0.050, "r", "90x30"]\n# a comment\n[1.000, "o", "\\u001b[1mbye\\u001b[0m"]\n[0.001, "x", "0"]\n`
const VALID_TS = `${TS_HEADER}hello\r\nbye\r\n\nScript done on 2026-01-01 00:00:01+00:00 [COMMAND_EXIT_CODE="0"]\n`
const VALID_TIMING = 'H 0.000000 START_TIME 2026-01-01 00:00:00+00:00\nO 0.100000 7\nS 0.050000 SIGWINCH ROWS=30 COLS=90\nO 1.000000 5\n'

/** A file with edits: characters replaced, inserted, or the end cut off. */
const edited = (base: string): Arbitrary<string> =>
  fc
    .array(
      fc.record({
        at: fc.nat({ max: base.length }),
        text: fc.oneof(fc.constantFrom('-', '9e99', '"', ',', ']', '[', '\n', '{', '}', 'x', '0', '.', ' ', '#', 'NaN', '-1'), fc.string({ maxLength: 4 })),
        cut: fc.boolean(),
        replace: fc.boolean(),
      }),
      { maxLength: 4 },
    )
    .map((edits: Array<{ at: number; text: string; cut: boolean; replace: boolean }>) => {
      let text = base
      for (const edit of edits) {
        const at = Math.min(edit.at, text.length)
        text = edit.cut ? text.slice(0, at) : `${text.slice(0, at)}${edit.text}${text.slice(at + (edit.replace ? 1 : 0))}`
      }
      return text
    })

test('generated casts, typescripts and timing files: read, or a RecordingError naming the file', (t) => {
  const dir = tempDir(t)
  fc.assert(fc.property(edited(VALID_CAST), (text: string) => readsOrRefuses(dir, text)), { numRuns: 400 })
  fc.assert(fc.property(edited(VALID_TS), edited(VALID_TIMING), (text: string, timing: string) => readsOrRefuses(dir, text, timing)), { numRuns: 400 })
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes: Uint8Array) => readsOrRefuses(dir, Buffer.from(bytes))), { numRuns: 200 })
  t.pass()
})

const MODES = ['1049', '47', '1047', '25', '2004', '1000', '1002', '1006', '1', '7', '12']

test('a playback cut anywhere leaves, after the restore, a terminal in its default modes', async (t) => {
  const chunk = fc.oneof(fc.constantFrom(...MODES).chain((m: string) => fc.constantFrom(`\x1b[?${m}h`, `\x1b[?${m}l`)), fc.constantFrom('text', '\r\n', '\x1b[1m'))
  await fc.assert(
    fc.asyncProperty(fc.array(chunk, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 4 }), async (pieces: string[], cuts: number[]) => {
      const whole = Buffer.from(pieces.join(''), 'latin1')
      // Fed in arbitrary chunks: sequences may be cut between two writes.
      const tracker = new ModeTracker()
      let from = 0
      for (const cut of [...cuts.map((c) => c % (whole.length + 1)).sort((a, b) => a - b), whole.length]) {
        tracker.feed(whole.subarray(from, Math.max(from, cut)))
        from = Math.max(from, cut)
      }
      const term = new Terminal({ cols: 20, rows: 5, allowProposedApi: true })
      await new Promise<void>((resolve) => term.write(Buffer.concat([whole, Buffer.from(tracker.restore(), 'latin1')]), resolve))
      const modes = term.modes
      const state = [term.buffer.active.type, modes.bracketedPasteMode, modes.mouseTrackingMode, modes.applicationCursorKeysMode, modes.wraparoundMode]
      term.dispose()
      return JSON.stringify(state) === JSON.stringify(['normal', false, 'none', false, true])
    }),
    { numRuns: 300 },
  )
  t.pass()
})

test('replay interrupted by SIGINT on a terminal puts back the modes the recording changed', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'modes.cast'), `${V3}[0.010, "o", "\\u001b[?1049h\\u001b[?25l\\u001b[?2004hfirst"]\n[600.000, "o", "never"]\n`)
  const replay = await fork([process.execPath, BIN, 'replay', 'modes.cast'], { cwd: dir })
  let seen = ''
  let interrupted = false
  for await (const chunk of replay) {
    seen += String(chunk)
    if (!interrupted && seen.includes('first')) {
      interrupted = true
      replay.kill('SIGINT')
    }
  }
  const status = await replay.wait()
  t.is(status.exitCode, 130)
  t.false(seen.includes('never'))
  t.true(seen.endsWith('\x1b[0m\x1b[?1049l\x1b[?25h\x1b[?2004l'), JSON.stringify(seen))
})

test('replay to a file or pipe writes the recording as it is, with nothing added', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'modes.cast'), `${V3}[0.010, "o", "\\u001b[?1049hfirst"]\n`)
  const result = await napiPty(['replay', 'modes.cast'], { cwd: dir })
  t.deepEqual([result.code, result.stdout.toString()], [0, '\x1b[?1049hfirst'])
})

test('any output converts to a screen whose .txt and .svg hold only what XML and text allow', async (t) => {
  const { finalScreen, screenSvg, screenText } = await import('../cli/screen')
  const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }).map((s: string) => Buffer.from(s))), { maxLength: 6 }), async (chunks: Uint8Array[]) => {
      const screen = await finalScreen(20, 5, chunks.map((write) => ({ write })))
      const svg = screenSvg(screen)
      const text = screenText(screen)
      return !NOT_XML.test(svg) && svg.endsWith('</svg>\n') && text.split('\n').length <= 6
    }),
    { numRuns: 300 },
  )
  t.pass()
})

test('convert of output the emulator cannot parse says nothing: the screen is the answer', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'odd.cast'), `${V3}[0.010, "o", "ok\\u007f\\u001b[\\u007fx"]\n`)
  const result = await napiPty(['convert', 'odd.cast', 'odd.txt'], { cwd: dir })
  t.deepEqual([result.code, result.stdout.toString(), result.stderr.toString()], [0, '', ''])
  t.regex(fs.readFileSync(path.join(dir, 'odd.txt'), 'utf8'), /^ok/)
})
