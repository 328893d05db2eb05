// The pack proof's PATH without compilers (scripts/packing.js): a compiler is hidden even when
// it sits in the same directory as node, npm and sh (as Debian's /usr/bin/cargo does), and the
// other tools of that directory stay on PATH.

import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

import { tempDir } from './helpers'

const { hideCompilers, describeHidden } = require('../scripts/packing') as {
  hideCompilers: (
    shimDir: string,
    searchPath?: string,
  ) => { PATH: string; hidden: Array<{ tool: string; paths: string[] }>; calls: () => string[] }
  describeHidden: (hidden: Array<{ tool: string; paths: string[] }>) => string
}

test('a cargo beside node is hidden, node is still found', (t) => {
  const { dir, remove } = tempDir()
  t.teardown(remove)
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  fs.writeFileSync(path.join(bin, 'cargo'), '#!/bin/sh\necho "the real cargo ran"\n', { mode: 0o755 })
  fs.symlinkSync(process.execPath, path.join(bin, 'node'))

  const hide = hideCompilers(path.join(dir, 'shims'), `${bin}:/usr/bin:/bin`)
  const cargo = hide.hidden.find((h) => h.tool === 'cargo')
  t.truthy(cargo)
  t.is(cargo?.paths[0], path.join(bin, 'cargo'))
  t.true(describeHidden(hide.hidden).includes(path.join(bin, 'cargo')))

  const env = { PATH: hide.PATH }
  const node = spawnSync('/bin/sh', ['-c', 'command -v node; node -e "console.log(40 + 2)"'], { env, encoding: 'utf8' })
  t.is(node.status, 0, node.stderr)
  t.deepEqual(node.stdout.trim().split('\n'), [path.join(bin, 'node'), '42'])

  const ran = spawnSync('/bin/sh', ['-c', 'cargo build'], { env, encoding: 'utf8' })
  t.is(ran.status, 127)
  t.notRegex(ran.stdout, /the real cargo ran/)
  t.regex(ran.stderr, /cargo is hidden here/)
  t.deepEqual(hide.calls(), ['cargo'])
})

test('with no compiler on PATH nothing is listed and nothing was called', (t) => {
  const { dir, remove } = tempDir()
  t.teardown(remove)
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  fs.symlinkSync(process.execPath, path.join(bin, 'node'))
  const hide = hideCompilers(path.join(dir, 'shims'), bin)
  t.deepEqual(hide.hidden, [])
  t.is(describeHidden(hide.hidden), 'no compiler on PATH to hide')
  t.deepEqual(hide.calls(), [])
})
