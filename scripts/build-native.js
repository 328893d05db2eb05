#!/usr/bin/env node
// Builds the native addon into dist/ with `napi build` (release; Cargo.toml strips it). The one
// thing napi build cannot decide by itself is the toolchain: on a Linux x64 glibc host this adds
// `--use-napi-cross`, napi-rs's prebuilt gcc with a glibc 2.17 sysroot, so that the binary loads
// on old distributions. That flag is an error on macOS and musl hosts, which use their own
// toolchain; so does any host with NAPI_PTY_HOST_TOOLCHAIN=1.
'use strict'

const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const args = ['build', '--platform', '--release', '--output-dir', 'dist', '--js', 'binding.js', '--dts', 'binding.d.ts']

function glibcHost() {
  return process.platform === 'linux' && Boolean(process.report?.getReport().header?.glibcVersionRuntime)
}

if (process.arch === 'x64' && glibcHost() && !process.env.NAPI_PTY_HOST_TOOLCHAIN) {
  args.push('--use-napi-cross', '--target', 'x86_64-unknown-linux-gnu')
}
const napi = path.join(root, 'node_modules', '.bin', 'napi')
console.log(`napi ${args.join(' ')}`)
const result = spawnSync(napi, args, { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
