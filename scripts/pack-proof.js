#!/usr/bin/env node
// The proof that a user needs no compiler: pack the main package and the linux-x64-gnu package
// as a release would publish them, install both from the tarballs into a new project with no
// Rust toolchain on PATH and no network, and use them there from CommonJS, ESM and a
// TypeScript consumer compiled under --strict. Prints each tarball's contents and size.
'use strict'

const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { describeHidden, describeTarball, hideCompilers, packRelease } = require('./packing')

const root = path.resolve(__dirname, '..')
const target = 'linux-x64-gnu'
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`pack-proof: this leg is ${target}; nothing to prove on ${process.platform}-${process.arch}`)
  process.exit(0)
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-pack-'))
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts })

const packed = packRelease(path.join(work, 'tarballs'), work, target)
console.log(`\n${describeTarball(packed.platform.info)}\n\n${describeTarball(packed.main.info)}`)
const platformTarball = packed.platform.file
const mainTarball = packed.main.file

// A new project: no Rust on PATH, no network (npm --offline; the other platforms' optional
// packages cannot be had and must not be needed).
const consumer = path.join(work, 'consumer')
fs.mkdirSync(consumer)
fs.writeFileSync(path.join(consumer, 'package.json'), '{ "name": "consumer", "version": "1.0.0", "private": true }\n')
const noCompilers = hideCompilers(path.join(work, 'no-compilers'))
console.log(`\n${describeHidden(noCompilers.hidden)}`)
// The package's own dependencies (pure JavaScript) come from npm's cache, as they would for a
// user who has them already. `npm ci` caches their tarballs but not the metadata an install by
// range needs, so a machine that has only ever run `npm ci` is given both here, at the versions
// the lockfile pins; nothing else is fetched.
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'))
const deps = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies ?? {})
const pinned = deps.map((name) => `${name}@${lock.packages[`node_modules/${name}`].version}`)
if (pinned.length) run('npm', ['cache', 'add', ...pinned])
const env = { ...process.env, PATH: noCompilers.PATH, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
run('npm', ['install', '--offline', '--no-audit', '--no-fund', mainTarball, platformTarball], { cwd: consumer, env })
const installed = fs.readdirSync(path.join(consumer, 'node_modules')).sort()
console.log(`\ninstalled offline: ${installed.join(', ')}`)
if (fs.readdirSync(path.join(consumer, 'node_modules', 'napi-pty'), { recursive: true }).some((f) => String(f).endsWith('.node'))) {
  throw new Error('the main package must not carry the binary')
}

// The main package alone, as a bare `npm pack` of a checkout gives it: loading it must name
// the missing platform package and say what to do, without napi-rs's text about WebAssembly
// packages and an npm bug.
const alone = path.join(work, 'alone')
fs.mkdirSync(alone)
fs.writeFileSync(path.join(alone, 'package.json'), '{ "name": "alone", "version": "1.0.0", "private": true }\n')
run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--omit=optional', mainTarball], { cwd: alone, env })
const failed = spawnSync(process.execPath, ['-e', "require('napi-pty')"], { cwd: alone, env, encoding: 'utf8' })
for (const needed of [`the package napi-pty-${target} is not installed`, 'npm run pack:local', 'NAPI_PTY_NATIVE_PATH', 'ERR_NAPI_PTY_NO_BINARY']) {
  if (failed.status === 0 || !failed.stderr.includes(needed)) throw new Error(`the load error lacks ${JSON.stringify(needed)}:\n${failed.stderr}`)
}
if (/wasm|4828|npm has a bug/i.test(failed.stderr)) throw new Error(`the load error has napi-rs's unrelated text:\n${failed.stderr}`)
console.log(`the main package alone: ${failed.stderr.split('\n').find((line) => line.startsWith('Error:'))}`)

const smoke = `
const assert = require('node:assert')
const fs = require('node:fs')
const pty = require('napi-pty')
;(async () => {
  const { master, slave } = await pty.openpty({ cols: 90, rows: 20 })
  assert.deepStrictEqual(pty.getWindowSize(slave), { cols: 90, rows: 20 })
  fs.closeSync(master); fs.closeSync(slave)
  const child = await pty.fork(['sh', '-c', 'read x; echo "got $x"; exit 7'])
  child.write('hi\\n')
  let out = ''
  for await (const chunk of child) out += chunk
  assert.match(out, /got hi/)
  assert.strictEqual((await child.wait()).exitCode, 7)
  await assert.rejects(pty.fork('napi-pty-missing-program'), { code: 'ENOENT' })
  const file = fs.openSync('spawned.txt', 'w')
  const status = await pty.spawn(['sh', '-c', 'echo spawned'], { stdin: fs.openSync('/dev/null', 'r'), stdout: file })
  assert.strictEqual(status.exitCode, 0)
  assert.strictEqual(fs.readFileSync('spawned.txt', 'utf8'), 'spawned\\r\\n')
  console.log('require: ok')
})().catch((err) => { console.error(err); process.exit(1) })
`
fs.writeFileSync(path.join(consumer, 'smoke.cjs'), smoke)
process.stdout.write(run(process.execPath, ['smoke.cjs'], { cwd: consumer, env }))

fs.writeFileSync(
  path.join(consumer, 'smoke.mjs'),
  `import { fork, spawn, openpty } from 'napi-pty'
import pty from 'napi-pty'
const child = await fork(['echo', 'esm'])
let out = ''
for await (const chunk of child) out += chunk
if (out !== 'esm\\r\\n' || typeof spawn !== 'function' || typeof openpty !== 'function' || pty.fork !== fork) process.exit(1)
console.log('import: ok')
`,
)
process.stdout.write(run(process.execPath, ['smoke.mjs'], { cwd: consumer, env }))

// The command the package installs.
const usage = run(path.join(consumer, 'node_modules', '.bin', 'napi-pty'), ['--help'], { cwd: consumer, env })
if (!usage.startsWith('Usage:')) throw new Error(`napi-pty --help printed ${JSON.stringify(usage)}`)
console.log('napi-pty --help: ok')

// node-pty's API through the subpath export, from CommonJS.
fs.writeFileSync(
  path.join(consumer, 'node-pty.cjs'),
  `const pty = require('napi-pty/node-pty')
const child = pty.spawn('sh', ['-c', 'echo "drop-in $(stty size)"; exit 5'], { cols: 70, rows: 9 })
let out = ''
child.onData((data) => (out += data))
child.onExit(({ exitCode, signal }) => {
  if (out !== 'drop-in 9 70\\r\\n' || exitCode !== 5 || signal !== 0) process.exit(1)
  console.log('require napi-pty/node-pty: ok')
})
`,
)
process.stdout.write(run(process.execPath, ['node-pty.cjs'], { cwd: consumer, env }))

// A TypeScript consumer against the shipped types, under --strict.
fs.writeFileSync(
  path.join(consumer, 'consumer.ts'),
  `import { fork, spawn, openpty, type ExitStatus, type PtyProcess, type SystemError } from 'napi-pty'
async function main(): Promise<ExitStatus> {
  const child: PtyProcess = await fork(['true'], { cols: 80, rows: 24, env: { PATH: '/usr/bin:/bin' } })
  child.resize(100, 30)
  const pair = await openpty()
  const fd: number = pair.master
  void fd
  try { await fork('missing') } catch (err) { const e = err as SystemError; console.log(e.code, e.syscall) }
  await spawn(['true'], (data: Buffer) => data.toString().toUpperCase())
  return child.wait()
}
void main()
import * as nodePty from 'napi-pty/node-pty'
import type { IDisposable, IPty, IPtyForkOptions } from 'napi-pty/node-pty'
const options: IPtyForkOptions = { name: 'xterm-256color', cols: 80, rows: 24, encoding: null }
const term: IPty = nodePty.spawn('sh', [], options)
const subscription: IDisposable = term.onData((data: string) => term.write(data))
term.onExit(({ exitCode, signal }) => { subscription.dispose(); console.log(exitCode, signal ?? 0) })
`,
)
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
run(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), 'consumer.ts'], { cwd: consumer, env, stdio: 'inherit' })
console.log('tsc --strict consumer: ok')
const calls = noCompilers.calls()
if (calls.length > 0) throw new Error(`a hidden compiler was called: ${calls.join(', ')}`)
console.log('no hidden compiler was called')
fs.rmSync(work, { recursive: true, force: true })
console.log('pack-proof: ok')
