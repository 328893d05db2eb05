// Which platform package the loader looks for, and what it says when that package is missing:
// checked on this machine by faking process.platform, process.arch and the glibc detection in
// a child process that loads the built package (dist/, with napi-rs's generated loader).

import { spawnSync } from 'node:child_process'
import * as path from 'node:path'

import test from 'ava'

const DIST = path.join(__dirname, '..', 'dist')

interface Outcome {
  loaded: boolean
  platformPackage?: string
  message?: string
  code?: string
  /** Everything Node would print for the error if nobody caught it, cause included. */
  printed?: string
}

/** Loads napi-pty in a child process that believes it runs on `platform`/`arch`. */
function loadAs(platform: string, arch: string, glibc: boolean): Outcome {
  const script = `
    const util = require('node:util')
    Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} })
    Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })
    const report = process.report.getReport()
    if (!${glibc}) delete report.header.glibcVersionRuntime
    Object.defineProperty(process, 'report', { value: { getReport: () => report } })
    let outcome
    try {
      require(${JSON.stringify(path.join(DIST, 'index.js'))})
      outcome = { loaded: true, platformPackage: require(${JSON.stringify(path.join(DIST, 'lib', 'native.js'))}).platformPackage() }
    } catch (err) {
      outcome = { loaded: false, message: err.message, code: err.code, printed: util.inspect(err) }
    }
    process.stdout.write(JSON.stringify(outcome))`
  const env = { ...process.env }
  delete env.NAPI_PTY_NATIVE_PATH
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env, cwd: DIST })
  if (child.status !== 0) throw new Error(`the child failed: ${child.stderr}`)
  return JSON.parse(child.stdout) as Outcome
}

for (const arch of ['arm64', 'x64']) {
  test(`on macOS ${arch} the loader wants napi-pty-darwin-${arch}, and says so when it is missing`, (t) => {
    const outcome = loadAs('darwin', arch, false)
    t.false(outcome.loaded)
    t.is(outcome.code, 'ERR_NAPI_PTY_NO_BINARY')
    t.true(outcome.message?.includes(`the package napi-pty-darwin-${arch} is not installed`), outcome.message)
    t.true(outcome.message?.includes('npm run pack:local'), outcome.message)
    t.true(outcome.message?.includes('NAPI_PTY_NATIVE_PATH'), outcome.message)
    // The cause is the miss of that package, not napi-rs's list of WebAssembly fallbacks.
    t.regex(outcome.printed ?? '', new RegExp(`\\[cause\\]: Error: Cannot find module 'napi-pty-darwin-${arch}'`))
    t.notRegex(outcome.printed ?? '', /wasm|wasi|4828|npm has a bug/i)
  })
}

test('on Linux arm64 with glibc the loader wants napi-pty-linux-arm64-gnu', (t) => {
  const outcome = loadAs('linux', 'arm64', true)
  t.false(outcome.loaded)
  t.true(outcome.message?.includes('the package napi-pty-linux-arm64-gnu is not installed'), outcome.message)
  t.notRegex(outcome.printed ?? '', /wasm|wasi|4828|npm has a bug/i)
})

test('a platform without a binary is named with the list of those that have one', (t) => {
  const outcome = loadAs('freebsd', 'x64', false)
  t.false(outcome.loaded)
  t.regex(outcome.message ?? '', /^napi-pty has no native binary for freebsd-x64: binaries are built for linux-x64-gnu, .*darwin-arm64\.$/)
})

test('the platform package follows the C library: -gnu with glibc, -musl without', (t) => {
  // The real binary loads here (napi-rs's loader reads the C library from the filesystem); the
  // name napi-pty reports in its errors follows the (faked) runtime report.
  const real = process.arch
  t.is(loadAs('linux', real, true).platformPackage, `napi-pty-linux-${real}-gnu`)
  t.is(loadAs('linux', real, false).platformPackage, `napi-pty-linux-${real}-musl`)
})

test('NAPI_PTY_NATIVE_PATH that cannot be loaded is named in the error', (t) => {
  const child = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(DIST, 'index.js'))})`], {
    encoding: 'utf8',
    env: { ...process.env, NAPI_PTY_NATIVE_PATH: '/nonexistent/napi-pty.node' },
  })
  t.not(child.status, 0)
  t.regex(child.stderr, /napi-pty could not load NAPI_PTY_NATIVE_PATH=\/nonexistent\/napi-pty\.node/)
  t.regex(child.stderr, /ERR_NAPI_PTY_NO_BINARY/)
})
