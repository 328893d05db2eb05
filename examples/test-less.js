#!/usr/bin/env node
// An example test of a terminal program with node:test: less, driven with keys, checked on
// its screen. Run it with `node --test examples/test-less.js` (any runner works the same way).
'use strict'
const assert = require('node:assert')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const test = require('node:test')
const { fork } = require('..')

test('less jumps to the end and finds a pattern', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'less-example-'))
  const file = path.join(dir, 'long.txt')
  fs.writeFileSync(file, Array.from({ length: 300 }, (_, i) => `row ${i + 1}`).join('\n') + '\n')
  const child = await fork(['less', file], { cols: 80, rows: 24, env: { ...process.env, LESS: '', LESSHISTFILE: '-' } })
  const screen = child.screen() // a headless terminal fed with less's output
  try {
    await screen.waitFor('row 23') // the first page is drawn
    await child.press('G') // to the end
    await screen.waitFor(/row 300\n\(END\)$/)
    assert.strictEqual(screen.buffer, 'alternate') // less uses the alternate screen

    await child.press('g', '/', ...'row 150', 'Enter')
    await screen.waitFor(/^row 150$/m)
    assert.strictEqual(screen.lines()[0], 'row 150')
    fs.writeFileSync(path.join(dir, 'less.svg'), screen.toSVG()) // a picture for the report

    await child.press('q')
    assert.strictEqual((await child.wait()).exitCode, 0)
  } finally {
    screen.dispose()
    child.kill('SIGKILL')
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
