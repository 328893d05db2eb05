#!/usr/bin/env node
// The proof that a user needs no compiler: pack the main package and the linux-x64-gnu package
// as a release would publish them, install both from the tarballs into a new project with no
// Rust toolchain on PATH and no network, and use them there from CommonJS, ESM and a
// TypeScript consumer compiled under --strict. Prints each tarball's contents and size.
'use strict'

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const pkg = require(path.join(root, 'package.json'))
const target = 'linux-x64-gnu'
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`pack-proof: this leg is ${target}; nothing to prove on ${process.platform}-${process.arch}`)
  process.exit(0)
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-pack-'))
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts })

function pack(dir) {
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: dir }))
  console.log(`\n${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked`)
  for (const file of info.files) console.log(`  ${String(file.size).padStart(8)}  ${file.path}`)
  return path.join(work, info.filename)
}

// The platform package, with the binary that `npm run build` made.
const platformDir = path.join(work, 'platform')
fs.cpSync(path.join(root, 'npm', target), platformDir, { recursive: true })
fs.copyFileSync(path.join(root, `napi-pty.${target}.node`), path.join(platformDir, `napi-pty.${target}.node`))
const platformTarball = pack(platformDir)

// The main package as `napi prepublish` leaves it: optionalDependencies on every platform
// package at the same version.
const mainDir = path.join(work, 'main')
fs.mkdirSync(mainDir)
const [listing] = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root }))
for (const file of listing.files) {
  fs.mkdirSync(path.dirname(path.join(mainDir, file.path)), { recursive: true })
  fs.copyFileSync(path.join(root, file.path), path.join(mainDir, file.path))
}
const manifest = { ...pkg, optionalDependencies: {} }
for (const name of fs.readdirSync(path.join(root, 'npm'))) {
  manifest.optionalDependencies[require(path.join(root, 'npm', name, 'package.json')).name] = pkg.version
}
// What only building from source needs stays out of the published manifest.
delete manifest.devDependencies
delete manifest.overrides
delete manifest.scripts
fs.writeFileSync(path.join(mainDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
const mainTarball = pack(mainDir)

// A new project: no Rust on PATH, no network (npm --offline; the other platforms' optional
// packages cannot be had and must not be needed).
const consumer = path.join(work, 'consumer')
fs.mkdirSync(consumer)
fs.writeFileSync(path.join(consumer, 'package.json'), '{ "name": "consumer", "version": "1.0.0", "private": true }\n')
// Directories with a cargo or rustc are left off PATH, unless they also hold npm (Debian's
// /usr/bin holds both): there, stand-ins first on PATH shadow them, each failing loudly, so an
// install that tried to build would fail here all the same.
const noRust = path.join(work, 'no-rust')
fs.mkdirSync(noRust)
for (const tool of ['cargo', 'rustc', 'rustup']) {
  fs.writeFileSync(path.join(noRust, tool), `#!/bin/sh\necho "pack-proof: ${tool} was called" >&2\nexit 127\n`, { mode: 0o755 })
}
const PATH = [noRust, ...(process.env.PATH || '').split(':')]
  .filter((dir) => dir === noRust || (!fs.existsSync(path.join(dir, 'cargo')) && !fs.existsSync(path.join(dir, 'rustc'))) || fs.existsSync(path.join(dir, 'npm')))
  .join(':')
const env = { ...process.env, PATH, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
run('npm', ['install', '--offline', '--no-audit', '--no-fund', mainTarball, platformTarball], { cwd: consumer, env })
const installed = fs.readdirSync(path.join(consumer, 'node_modules')).sort()
console.log(`\ninstalled offline: ${installed.join(', ')}`)
if (fs.existsSync(path.join(consumer, 'node_modules', 'napi-pty', `napi-pty.${target}.node`))) {
  throw new Error('the main package must not carry the binary')
}

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
`,
)
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
run(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), 'consumer.ts'], { cwd: consumer, env, stdio: 'inherit' })
console.log('tsc --strict consumer: ok')
fs.rmSync(work, { recursive: true, force: true })
console.log('pack-proof: ok')
