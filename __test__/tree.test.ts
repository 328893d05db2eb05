// The checkout holds sources only: what the build, the packers and the quickstart's commands
// write is either in dist/ (or another ignored folder) or ignored by git.

import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

const ROOT = path.join(__dirname, '..')
const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() === 'true'
const gitTest = inGit ? test : test.skip

test('no build output beside the TypeScript sources', (t) => {
  for (const dir of ['lib', 'cli']) {
    const stray = fs.readdirSync(path.join(ROOT, dir)).filter((name) => !name.endsWith('.ts') || name.endsWith('.d.ts'))
    t.deepEqual(stray, [], `${dir}/`)
  }
  const top = fs.readdirSync(ROOT).filter((name) => /^(index|binding)\.(js|d\.ts)$|\.node$/.test(name))
  t.deepEqual(top, [])
  // ... because it is in dist/, where package.json points.
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; types: string; bin: Record<string, string> }
  for (const file of [pkg.main, pkg.types, ...Object.values(pkg.bin)]) {
    t.true(file.startsWith('dist/'), file)
    t.true(fs.existsSync(path.join(ROOT, file)), `${file} is built`)
  }
})

gitTest('git ignores the build output and the files the quickstart makes', (t) => {
  const paths = [
    'dist/index.js',
    'dist/napi-pty.linux-x64-gnu.node',
    'target/release/libnapi_pty.so',
    'napi-pty-0.1.0.tgz',
    'packed/napi-pty-linux-x64-gnu-0.1.0.tgz',
    'typescript',
    'typescript.cast',
    'session.cast',
    'out.ts',
  ]
  const result = spawnSync('git', ['check-ignore', '--no-index', ...paths], { cwd: ROOT, encoding: 'utf8' })
  t.deepEqual(result.stdout.trim().split('\n').sort(), [...paths].sort(), result.stderr)
  // Sources stay visible to git.
  const sources = spawnSync('git', ['check-ignore', '--no-index', 'index.ts', 'lib/fork.ts', 'cli/script.ts', '__test__/helpers.ts'], { cwd: ROOT, encoding: 'utf8' })
  t.is(sources.stdout, '')
})
