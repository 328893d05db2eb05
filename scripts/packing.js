// What the pack proof (scripts/pack-proof.js) and `npm run pack:local` share: packing the
// tarballs a release would publish, and a PATH on which no compiler can be found.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

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

module.exports = { COMPILERS, hideCompilers, describeHidden }
