// napi-pty convert: between typescript(+timing) and asciicast v2/v3 without losing a byte, and
// to the final screen as text (checked against tmux's own screen, with vim) and as SVG.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

import { tmuxPane, trimScreen } from './recorder-helpers'
import { BIN, napiPty, splitTypescript, tempDir, timingEntries } from './script-helpers'

const SESSION = String.raw`printf 'héllo\n'; sleep 0.05; printf '\033[1;31mred\033[0m ✓\n'; exit 5`

test('typescript+timing -> v3 -> typescript+timing keeps every byte, the pace and the exit code; v2 the bytes', async (t) => {
  const dir = tempDir(t)
  const recorded = await napiPty(['script', '-q', '-T', 'a.tim', '-c', SESSION, 'a.ts'], { cwd: dir })
  t.is(recorded.code, 5)
  const steps: string[][] = [
    ['convert', '-t', 'a.tim', 'a.ts', 'b.cast'],
    ['convert', '-T', 'd.tim', 'b.cast', 'd.ts'],
    ['convert', '--to', 'asciicast-v2', 'b.cast', 'c.json'],
    ['convert', 'c.json', 'e.ts'],
  ]
  for (const args of steps) {
    const result = await napiPty(args, { cwd: dir })
    t.deepEqual([result.code, result.stderr.toString()], [0, ''], args.join(' '))
  }
  const original = splitTypescript(fs.readFileSync(path.join(dir, 'a.ts')))
  const back = splitTypescript(fs.readFileSync(path.join(dir, 'd.ts')))
  t.true(back.body.equals(original.body))
  t.regex(back.footer, /\[COMMAND_EXIT_CODE="5"\]\n$/)
  const v3 = fs.readFileSync(path.join(dir, 'b.cast'), 'utf8').trimEnd().split('\n')
  t.is((JSON.parse(v3[0] as string) as { version: number }).version, 3)
  t.regex(v3.at(-1) as string, /^\[\d+\.\d{3}, "x", "5"\]$/)
  t.is((JSON.parse(fs.readFileSync(path.join(dir, 'c.json'), 'utf8').split('\n')[0] as string) as { version: number }).version, 2)
  // v2 has no exit event: the typescript from it has the bytes, and no footer to invent.
  const e = fs.readFileSync(path.join(dir, 'e.ts'))
  t.true(e.subarray(e.indexOf(0x0a) + 1).equals(original.body))
  // The pause survives the round trip (to the millisecond v3 keeps).
  const before = timingEntries(fs.readFileSync(path.join(dir, 'a.tim'), 'utf8'))
  const after = timingEntries(fs.readFileSync(path.join(dir, 'd.tim'), 'utf8'))
  const total = (entries: Array<{ delay: number }>): number => entries.reduce((n, e) => n + e.delay, 0)
  t.true(Math.abs(total(before) - total(after)) < 0.002, `${total(before)} vs ${total(after)}`)
  t.is(after.reduce((n, e) => n + e.bytes, 0), original.body.length)
})

test('convert to .svg draws the final screen: its text, colours and bold', async (t) => {
  const dir = tempDir(t)
  await napiPty(['script', '-q', '--format', 'asciicast', '-c', SESSION, 'a.cast'], { cwd: dir })
  const result = await napiPty(['convert', 'a.cast', 'a.svg'], { cwd: dir })
  t.deepEqual([result.code, result.stderr.toString()], [0, ''])
  const svg = fs.readFileSync(path.join(dir, 'a.svg'), 'utf8')
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/)
  t.regex(svg, />héllo<\/text>/)
  t.regex(svg, /<text [^>]*fill="#cd0000" font-weight="bold">red<\/text>/)
  t.regex(svg, />✓<\/text>|> ✓<\/text>/)
  t.true(svg.trimEnd().endsWith('</svg>'))
})

test('convert to .txt of a vim session equals tmux capture-pane, live and at the end', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'first line\n\tindented\nlast line\n')
  const pane = await tmuxPane(t, dir, [process.execPath, BIN, 'script', '-q', '--format', 'asciicast', '-c', 'vim -u NONE -N -i NONE notes.txt', 'rec.cast'])
  await pane.waitForScreen(/"notes\.txt" 3L/)
  await pane.keys('Goadded by a test')
  await pane.tmux('send-keys', '-t', 'rec', 'Escape')
  await pane.keys(':set number')
  await pane.enter()
  const live = await pane.waitForScreen(/ {2}4 added by a test/)
  // The cast is written before the output reaches tmux: converting it now gives this screen.
  const now = await napiPty(['convert', 'rec.cast', 'live.txt'], { cwd: dir })
  t.deepEqual([now.code, now.stderr.toString()], [0, ''])
  t.is(fs.readFileSync(path.join(dir, 'live.txt'), 'utf8'), trimScreen(live))
  t.regex(live, /~\n/)

  await pane.keys(':q!')
  await pane.enter()
  t.is(await pane.waitForExit(), 0)
  const end = await pane.screen()
  const done = await napiPty(['convert', 'rec.cast', 'end.txt'], { cwd: dir })
  t.is(done.code, 0)
  t.is(fs.readFileSync(path.join(dir, 'end.txt'), 'utf8'), trimScreen(end))
})

test('convert refuses a timing file for a format without one, and a bad --to', async (t) => {
  const dir = tempDir(t)
  await napiPty(['script', '-q', '--format', 'asciicast', '-c', 'echo hi', 'a.cast'], { cwd: dir })
  const timing = await napiPty(['convert', '-T', 'x.tim', 'a.cast', 'a.txt'], { cwd: dir })
  t.is(timing.code, 1)
  t.regex(timing.stderr.toString(), /^napi-pty: a timing file goes with a typescript output, not txt\n$/)
  const to = await napiPty(['convert', '--to', 'gif', 'a.cast', 'a.gif'], { cwd: dir })
  t.is(to.code, 2)
  t.regex(to.stderr.toString(), /^napi-pty: --to must be one of typescript, asciicast, asciicast-v2, txt, svg, got gif\n/)
  t.false(fs.existsSync(path.join(dir, 'a.txt')) || fs.existsSync(path.join(dir, 'a.gif')))
})
