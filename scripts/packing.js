// What the pack proof (scripts/pack-proof.js) and `npm run pack:local` (scripts/pack-local.js)
// share: packing the tarballs a release would publish, and a PATH on which no compiler can be
// found.
'use strict'

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const pkg = require(path.join(root, 'package.json'))

/** This machine as napi-rs names platforms (`linux-x64-gnu`, `darwin-arm64`, ...). */
function hostTarget() {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const glibc = Boolean(process.report?.getReport().header?.glibcVersionRuntime)
  return `linux-${process.arch}-${glibc ? 'gnu' : 'musl'}`
}

function npmPack(dir, destination) {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [info] = JSON.parse(out)
  return { file: path.join(destination, info.filename), info }
}

/** What npm pack said about a tarball: its size and each file's. */
function describeTarball(info) {
  const lines = [`${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked`]
  for (const file of info.files) lines.push(`  ${String(file.size).padStart(8)}  ${file.path}`)
  return lines.join('\n')
}

/**
 * Packs this platform's package (npm/<target>/ with the binary `npm run build` left in dist/)
 * and the main package as `napi prepublish` leaves it (optionalDependencies on every platform
 * package at the same version, nothing of the build in its manifest) into `destination`.
 *
 * @param {string} destination where the tarballs go (created if missing)
 * @param {string} work an empty directory to stage the packages in
 * @returns {{ target: string, platform: { file: string, info: object }, main: { file: string, info: object } }}
 */
function packRelease(destination, work, target = hostTarget()) {
  const binary = path.join(root, 'dist', `napi-pty.${target}.node`)
  if (!fs.existsSync(path.join(root, 'npm', target))) throw new Error(`napi-pty has no package for ${target} (npm/${target})`)
  if (!fs.existsSync(binary)) throw new Error(`no ${path.relative(root, binary)}: run npm run build first`)
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('no dist/index.js: run npm run build first')
  fs.mkdirSync(destination, { recursive: true })

  const platformDir = path.join(work, 'platform')
  fs.cpSync(path.join(root, 'npm', target), platformDir, { recursive: true })
  fs.copyFileSync(binary, path.join(platformDir, path.basename(binary)))
  const platform = npmPack(platformDir, destination)

  const mainDir = path.join(work, 'main')
  fs.mkdirSync(mainDir)
  const listing = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  for (const file of JSON.parse(listing)[0].files) {
    fs.mkdirSync(path.dirname(path.join(mainDir, file.path)), { recursive: true })
    fs.copyFileSync(path.join(root, file.path), path.join(mainDir, file.path))
  }
  const manifest = { ...pkg, optionalDependencies: {} }
  for (const name of fs.readdirSync(path.join(root, 'npm')).sort()) {
    manifest.optionalDependencies[require(path.join(root, 'npm', name, 'package.json')).name] = pkg.version
  }
  // What only building from source needs stays out of the published manifest.
  for (const field of ['devDependencies', 'devEngines', 'overrides', 'scripts']) delete manifest[field]
  fs.writeFileSync(path.join(mainDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  const main = npmPack(mainDir, destination)
  return { target, platform, main }
}

/** What a user installing napi-pty must never need: Rust, and a C toolchain for node-gyp. */
const COMPILERS = ['cargo', 'rustc', 'rustup', 'cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'make']

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * A PATH on which the compilers are hidden but every other tool stays where it was. A directory
 * of failing stubs goes first, so `cargo` finds the stub while `node`, `npm` and `sh` beside a
 * distro's `/usr/bin/cargo` are still found. (Dropping the directories that hold a compiler
 * would drop those too.) Each stub appends its name to a log, so that a run can show that
 * nothing tried to compile.
 *
 * @param {string} shimDir an empty directory for the stubs (created if missing)
 * @param {string} [searchPath] the PATH to start from; default this process's
 * @returns {{ PATH: string, hidden: Array<{ tool: string, paths: string[] }>, calls: () => string[] }}
 */
function hideCompilers(shimDir, searchPath = process.env.PATH || '') {
  fs.mkdirSync(shimDir, { recursive: true })
  const log = path.join(shimDir, 'calls.log')
  const dirs = [...new Set(searchPath.split(':').filter(Boolean))]
  const hidden = []
  for (const tool of COMPILERS) {
    const stub = path.join(shimDir, tool)
    fs.writeFileSync(
      stub,
      '#!/bin/sh\n' +
        `echo "${tool}" >> '${log}'\n` +
        `echo "${tool} is hidden here: installing napi-pty must not need a compiler" >&2\n` +
        'exit 127\n',
      { mode: 0o755 },
    )
    const paths = dirs.map((dir) => path.join(dir, tool)).filter(isExecutable)
    if (paths.length > 0) hidden.push({ tool, paths })
  }
  const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [])
  return { PATH: [shimDir, ...dirs].join(':'), hidden, calls }
}

/** One line per hidden compiler, for the log of a run. */
function describeHidden(hidden) {
  if (hidden.length === 0) return 'no compiler on PATH to hide'
  return `hidden (shadowed by failing stubs): ${hidden.map((h) => `${h.tool} (${h.paths.join(', ')})`).join('; ')}`
}

module.exports = { COMPILERS, hideCompilers, describeHidden, hostTarget, packRelease, describeTarball }
