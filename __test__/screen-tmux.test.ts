// Our Screen against tmux, the reference terminal: the same program at the same size on both,
// driven the same way, must show the same text with the cursor in the same place.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

import { twin } from './tmux-twin'

const numbered = (n: number, word = 'line') => Array.from({ length: n }, (_, i) => `${word} ${i + 1}: the quick brown fox`).join('\n') + '\n'

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

void fs
void path
void numbered
