// Our Screen against tmux, the reference terminal: the same program at the same size on both,
// driven the same way, must show the same text with the cursor in the same place.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

import { execFileSync } from 'node:child_process'

import { fork, type Color } from '../index'
import { tempDir } from './script-helpers'
import { twin, twinEnv } from './tmux-twin'


test('vim: opening a file, moving, insert mode', async (t) => {
  const tw = await twin(t, ['sh', '-c', 'printf "%s\\n" "alpha beta gamma" "second line here" "third" > f.txt; exec vim -u NONE -N -i NONE -n -c "set ruler" f.txt'], 80, 24)
  await tw.settle('"f.txt" 3L')
  await tw.same(t, 'opened')
  t.is(tw.screen.buffer, 'alternate')
  await tw.press('Down', 'Right', 'Right', 'w')
  await tw.settle('2,8')
  await tw.same(t, 'moved')
  await tw.press('i')
  await tw.settle('-- INSERT --')
  await tw.press('X', 'Y', 'Z')
  await tw.settle('second XYZline')
  await tw.same(t, 'inserted')
})

test('less: a long file after G and /pattern', async (t) => {
  const tw = await twin(t, ['sh', '-c', 'seq 1 300 | sed "s/^/row /" > long.txt; exec less long.txt'], 80, 24)
  await tw.settle('row 23')
  await tw.same(t, 'opened')
  await tw.press('G')
  await tw.settle('row 300')
  await tw.same(t, 'at the end')
  await tw.press('g', '/', 'r', 'o', 'w', ' ', '1', '5', '0', 'Enter')
  await tw.settle(/^row 150$/m)
  await tw.same(t, 'after the search')
})

test('a line of CJK and emoji: wide characters in their cells', async (t) => {
  const tw = await twin(t, ['sh', '-c', 'printf "ab 中文字 😀 end\\n宽😀x\\n"; exec sleep 100000'], 40, 6)
  await tw.settle('宽😀x')
  await tw.same(t, 'wide')
  const cell = tw.screen.cell(3, 0)
  t.like(cell, { char: '中', width: 2 })
  t.like(tw.screen.cell(4, 0), { char: '', width: 0 })
  t.like(tw.screen.cell(10, 0), { char: '😀', width: 2 })
  t.like(tw.screen.cell(13, 0), { char: 'e', width: 1 })
})

test('entering and leaving the alternate screen', async (t) => {
  const script = 'printf "before\\n"; printf "\\033[?1049h\\033[H\\033[2Jinside\\n"; read x; printf "\\033[?1049lafter\\n"; exec sleep 100000'
  const tw = await twin(t, ['sh', '-c', script], 50, 10)
  await tw.settle('inside')
  await tw.same(t, 'inside')
  t.is(tw.screen.buffer, 'alternate')
  t.is((await tw.tmux('display-message', '-p', '-t', 'ref', '#{alternate_on}')).trim(), '1')
  await tw.press('Enter')
  await tw.settle('after')
  await tw.same(t, 'left')
  t.is(tw.screen.buffer, 'normal')
  t.is((await tw.tmux('display-message', '-p', '-t', 'ref', '#{alternate_on}')).trim(), '0')
})

test('a resize while vim runs', async (t) => {
  const tw = await twin(t, ['sh', '-c', 'printf "%s\\n" "a long line that will have to wrap when the window gets narrow, yes" > r.txt; exec vim -u NONE -N -i NONE -n -c "set ruler" r.txt'], 80, 24)
  await tw.settle('"r.txt" 1L')
  await tw.same(t, 'before')
  await tw.resize(30, 12)
  t.is(tw.screen.cols, 30)
  t.is(tw.screen.rows, 12)
  await tw.settle(/^ow, yes$/m)
  await tw.same(t, 'after')
})


type Attrs = { fg: Color; bg: Color; bold: boolean; italic: boolean; underline: boolean; inverse: boolean }

/** Each character of a `capture-pane -e` line with the attributes its SGR codes gave it. */
function sgrCells(line: string): Array<{ char: string } & Attrs> {
  const fresh = (): Attrs => ({ fg: { mode: 'default' }, bg: { mode: 'default' }, bold: false, italic: false, underline: false, inverse: false })
  let a = fresh()
  const out: Array<{ char: string } & Attrs> = []
  const re = /\x1b\[([0-9;:]*)m|([^\x1b])/gu
  for (const m of line.matchAll(re)) {
    if (m[2] !== undefined) {
      out.push({ char: m[2], ...a })
      continue
    }
    const p = m[1] === '' ? [0] : m[1].split(';').map(Number)
    for (let i = 0; i < p.length; i++) {
      const n = p[i]
      const color = (): Color => {
        if (p[i + 1] === 5) {
          i += 2
          return { mode: 'palette', index: p[i] }
        }
        i += 4
        return { mode: 'rgb', r: p[i - 2], g: p[i - 1], b: p[i] }
      }
      if (n === 0) a = fresh()
      else if (n === 1) a.bold = true
      else if (n === 3) a.italic = true
      else if (n === 4) a.underline = true
      else if (n === 7) a.inverse = true
      else if (n >= 30 && n <= 37) a.fg = { mode: 'palette', index: n - 30 }
      else if (n >= 90 && n <= 97) a.fg = { mode: 'palette', index: n - 90 + 8 }
      else if (n >= 40 && n <= 47) a.bg = { mode: 'palette', index: n - 40 }
      else if (n >= 100 && n <= 107) a.bg = { mode: 'palette', index: n - 100 + 8 }
      else if (n === 38) a.fg = color()
      else if (n === 48) a.bg = color()
      else if (n === 39) a.fg = { mode: 'default' }
      else if (n === 49) a.bg = { mode: 'default' }
      else throw new Error(`unexpected SGR ${n} in ${JSON.stringify(line)}`)
    }
  }
  return out
}

test('256 colours and truecolor with bold, italic, underline, inverse: the cells tmux has', async (t) => {
  const script = [
    "printf '\\033[38;5;196mR\\033[48;5;21mB\\033[0m \\033[1;4;38;2;10;200;30mT\\033[0m\\033[7mI\\033[0m \\033[3mi\\033[0m \\033[31mr\\033[42mg\\033[0m end\\n'",
    "printf '\\033[92mbright\\033[0m \\033[48;2;200;100;50;38;5;16mdark on rgb\\033[0m done\\n'",
    'exec sleep 100000',
  ].join('; ')
  const tw = await twin(t, ['sh', '-c', script], 40, 5)
  await tw.settle('done')
  await tw.same(t, 'colours')
  const lines = (await tw.tmux('capture-pane', '-p', '-e', '-t', 'ref')).split('\n')
  let compared = 0
  for (let y = 0; y < 2; y++) {
    const theirs = sgrCells(lines[y])
    theirs.forEach((cell, x) => {
      const mine = tw.screen.cell(x, y)
      const { char, fg, bg, bold, italic, underline, inverse } = mine
      t.deepEqual({ char: char === '' ? ' ' : char, fg, bg, bold, italic, underline, inverse }, cell, `cell ${x},${y}`)
      compared++
    })
  }
  t.is(compared, 14 + 23)
  t.like(tw.screen.cell(3, 0), { char: 'T', bold: true, underline: true, fg: { mode: 'rgb', r: 10, g: 200, b: 30 } })
  t.like(tw.screen.cell(0, 0), { char: 'R', fg: { mode: 'palette', index: 196 } })
})

/** Plays `file` to both terminals (with `cat`) and compares them once both show `marker`. */
async function replay(t: import('ava').ExecutionContext, file: string, cols: number, rows: number, marker: string | RegExp) {
  const tw = await twin(t, ['sh', '-c', `cat '${file}'; exec sleep 100000`], cols, rows)
  await tw.settle(marker)
  await tw.same(t, path.basename(file))
  return tw
}

test('top -b -n 1: the same text on both terminals', async (t) => {
  // top's figures change from run to run: one run's bytes are played to both terminals.
  const dir = tempDir(t)
  const file = path.join(dir, 'top.out')
  fs.writeFileSync(file, execFileSync('top', ['-b', '-n', '1', '-w', '80'], { env: { ...process.env, LANG: 'C.UTF-8' } }))
  const last = fs.readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)!.trim()
  await replay(t, file, 80, 24, last)
})

test('interactive top after one refresh: the same text on both terminals', async (t) => {
  // Recorded on our terminal (so it answers top's queries), then played to both.
  const dir = tempDir(t)
  const child = await fork(['top', '-d', '0.2'], { cols: 80, rows: 24, cwd: dir, env: { ...twinEnv(dir), TERM: 'xterm-256color' } })
  const chunks: Buffer[] = []
  child.on('data', (chunk: Buffer) => chunks.push(chunk))
  const screen = child.screen()
  const frames = () => Buffer.concat(chunks).toString('latin1').split('top - ').length - 1
  await screen.waitFor(() => frames() >= 2)
  await child.press('q')
  await child.wait()
  screen.dispose()
  const file = path.join(dir, 'top.out')
  fs.writeFileSync(file, Buffer.concat(chunks))
  const tw = await replay(t, file, 80, 24, /PID +USER/)
  t.regex(tw.screen.text(), /PID +USER/)
})
