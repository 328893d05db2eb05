#!/usr/bin/env node
// `npm run pack:local [-- DIR]`: the tarballs a release would publish, for this machine only: the
// main package (with its optionalDependencies) and this platform's package with the binary that
// `npm run build` made, written into DIR (default packed/). Install both together:
//   npm install DIR/napi-pty-<version>.tgz DIR/napi-pty-<platform>-<version>.tgz
'use strict'

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { describeTarball, packRelease } = require('./packing')

const destination = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'packed'))
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-pack-'))
try {
  const { target, main, platform } = packRelease(destination, work)
  console.log(`${describeTarball(main.info)}\n\n${describeTarball(platform.info)}\n`)
  console.log(`Install napi-pty for ${target} in a project with both tarballs:`)
  console.log(`  npm install ${main.file} ${platform.file}`)
} catch (err) {
  console.error(`pack:local: ${err.message}`)
  process.exitCode = 1
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
