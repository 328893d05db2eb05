// The `napi-pty` command line itself: --version, each command's own help, util-linux's flags
// that we accept, what replay refuses, and the resizes an asciicast recording keeps.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

import { napiPty, recordResize, tempDir } from './script-helpers'

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }

test('--version prints the package version', async (t) => {
  const dir = tempDir(t)
  for (const flag of ['--version', '-V']) {
    const result = await napiPty([flag], { cwd: dir })
    t.deepEqual([result.code, result.stdout.toString(), result.stderr.toString()], [0, `napi-pty ${pkg.version}\n`, ''])
  }
})

test('script --help and replay --help print their own help', async (t) => {
  const dir = tempDir(t)
  const script = await napiPty(['script', '--help'], { cwd: dir })
  t.is(script.code, 0)
  t.regex(script.stdout.toString(), /^Usage: napi-pty script \[options\] \[file\]/)
  t.regex(script.stdout.toString(), /--log-timing FILE/)
  t.notRegex(script.stdout.toString(), /--speed/)

  const replay = await napiPty(['replay', '-h'], { cwd: dir })
  t.is(replay.code, 0)
  t.regex(replay.stdout.toString(), /^Usage: napi-pty replay \[options\] FILE/)
  t.regex(replay.stdout.toString(), /--speed X/)
  t.notRegex(replay.stdout.toString(), /--append/)

  const global = await napiPty(['--help'], { cwd: dir })
  t.is(global.code, 0)
  t.regex(global.stdout.toString(), /napi-pty script \[options\] \[file\][\s\S]*napi-pty replay[\s\S]*--version/)
})

test("a wrong option names itself and shows the command's usage, exit 2", async (t) => {
  const dir = tempDir(t)
  const result = await napiPty(['replay', '--nope', 'x'], { cwd: dir })
  t.is(result.code, 2)
  t.regex(result.stderr.toString(), /^napi-pty: Unknown option '--nope'[\s\S]*\nUsage: napi-pty replay /)
})

test("util-linux's -e / --return is accepted: the exit code is the child's either way", async (t) => {
  const dir = tempDir(t)
  for (const flag of ['-e', '--return']) {
    const result = await napiPty(['script', '-q', flag, '-c', 'echo hi; exit 3', 'out'], { cwd: dir })
    t.deepEqual([result.code, result.stderr.toString()], [3, ''], flag)
    t.is(result.stdout.toString(), 'hi\r\n')
  }
})

test('replay refuses a file that is not a recording, before writing anything', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n')
  const result = await napiPty(['replay', 'passwd'], { cwd: dir })
  t.is(result.code, 1)
  t.is(result.stdout.length, 0)
  t.regex(result.stderr.toString(), /^napi-pty: passwd is not a recording: a typescript starts with "Script started on \.\.\."/)

  fs.writeFileSync(path.join(dir, 'empty'), '')
  const empty = await napiPty(['replay', 'empty'], { cwd: dir })
  t.deepEqual([empty.code, empty.stdout.length], [1, 0])
  t.regex(empty.stderr.toString(), /empty is not a recording/)
})

test('replay refuses a timing file or asciicast event it cannot read, naming the line', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'ts'), 'Script started on 2026-01-01 00:00:00+00:00 [<not executed on terminal>]\nhello\n')
  fs.writeFileSync(path.join(dir, 'timing'), '0.1 3\nnot a timing line\n')
  const timing = await napiPty(['replay', '--timing', 'timing', 'ts'], { cwd: dir })
  t.deepEqual([timing.code, timing.stdout.length], [1, 0])
  t.regex(timing.stderr.toString(), /^napi-pty: timing: line 2 is not a timing entry/)

  fs.writeFileSync(path.join(dir, 'bad.cast'), '{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "a"]\n{"oops": 1}\n')
  const cast = await napiPty(['replay', 'bad.cast'], { cwd: dir })
  t.deepEqual([cast.code, cast.stdout.length], [1, 0])
  t.regex(cast.stderr.toString(), /^napi-pty: bad.cast: line 3 is not an asciicast event/)

  fs.writeFileSync(path.join(dir, 'v4.cast'), '{"version": 4, "term": {"cols": 80, "rows": 24}}\n[0.1, "o", "a"]\n')
  const v4 = await napiPty(['replay', 'v4.cast'], { cwd: dir })
  t.deepEqual([v4.code, v4.stdout.length], [1, 0])
  t.regex(v4.stderr.toString(), /^napi-pty: v4\.cast: line 1: asciicast version 4 is not supported \(versions 2 and 3 are\)/)
})

test('an asciicast v2 recording records a resize of its terminal as an "r" event', async (t) => {
  const dir = tempDir(t)
  const { exitCode, seen, lines } = await recordResize(dir, 'asciicast-v2')
  t.is(exitCode, 0)
  t.true(seen.includes('40 120'), seen)

  const header = JSON.parse(lines[0] as string) as { width: number; height: number }
  t.deepEqual([header.width, header.height], [80, 24])
  const events = lines.slice(1).map((line) => JSON.parse(line) as [number, string, string])
  const resizes = events.filter((e) => e[1] === 'r')
  t.deepEqual(resizes.map((e) => e[2]), ['120x40'])
  // The resize comes before the output the child printed once it had the new size.
  const r = events.findIndex((e) => e[1] === 'r')
  const after = events.findIndex((e) => e[1] === 'o' && e[2].includes('40 120'))
  t.true(r >= 0 && after > r, JSON.stringify(events))
  const times = events.map((e) => e[0])
  t.deepEqual(times, [...times].sort((a, b) => a - b))
})
