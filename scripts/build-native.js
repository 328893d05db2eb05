#!/usr/bin/env node
// Builds the native addon (release, stripped) with napi-rs. On Linux x64 it links against
// glibc 2.17 using napi-rs's prebuilt cross toolchain (a package from the npm registry, fetched
// and unpacked once into target/), so that the binary loads on old distributions: it then needs no glibc symbol newer
// than 2.17. Elsewhere, or with NAPI_PTY_HOST_TOOLCHAIN=1, the host's toolchain is used.
'use strict'

const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const args = ['build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts']
const env = { ...process.env }

/** napi-rs's gcc toolchain with a glibc 2.17 sysroot, as published on npm. */
const TOOLCHAIN = '@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0'

function oldGlibcToolchain() {
  if (process.platform !== 'linux' || process.arch !== 'x64' || process.env.NAPI_PTY_HOST_TOOLCHAIN) return undefined
  const dir = path.join(root, 'target', 'toolchain-x86_64-glibc2.17')
  const done = path.join(dir, '.unpacked')
  if (!fs.existsSync(done)) {
    // Fetched with npm itself (it is a registry package), unpacked once, kept under target/.
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const tgz = execFileSync('npm', ['pack', TOOLCHAIN, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()
    execFileSync('tar', ['-xzf', tgz, '-C', dir, 'package/x86_64-unknown-linux-gnu.tar.xz'], { cwd: dir })
    execFileSync('tar', ['-xJf', path.join(dir, 'package', 'x86_64-unknown-linux-gnu.tar.xz'), '-C', dir])
    fs.rmSync(path.join(dir, 'package'), { recursive: true, force: true })
    fs.rmSync(path.join(dir, tgz), { force: true })
    fs.writeFileSync(done, `${TOOLCHAIN}\n`)
  }
  return path.join(dir, 'bin', 'x86_64-unknown-linux-gnu-gcc')
}

const gcc = oldGlibcToolchain()
if (gcc) {
  env.CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER = gcc
  env.CC_x86_64_unknown_linux_gnu = gcc
  args.push('--target', 'x86_64-unknown-linux-gnu')
}
const napi = path.join(root, 'node_modules', '.bin', 'napi')
const result = spawnSync(napi, args, { cwd: root, env, stdio: 'inherit' })
process.exit(result.status ?? 1)
