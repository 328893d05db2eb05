'use strict'
// Preloaded (node --require) by scripts/node-pty-tests.js into the test runner and every Node
// process its tests start: node-pty's own modules that carry its public API resolve to
// napi-pty/node-pty instead. `lib/index.js` is the package's entry (what `require('node-pty')`
// and the tests' sub-processes load); `lib/unixTerminal.js` is where its tests take the class
// that `spawn` constructs and whose static `open` is `open()`. Everything else (node-pty's
// private Terminal base class, its Windows modules, the test utilities) stays node-pty's.

const Module = require('node:module')
const path = require('node:path')

// By the package's own name (its `exports`), wherever the build puts the file.
const ours = require.resolve('napi-pty/node-pty')
const nodePtyLib = path.join(path.dirname(require.resolve('node-pty/package.json', { paths: [path.join(__dirname, '..')] })), 'lib')
const redirected = new Set([path.join(nodePtyLib, 'index.js'), path.join(nodePtyLib, 'unixTerminal.js')])

const resolve = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
  const filename = resolve.call(this, request, parent, ...rest)
  return redirected.has(filename) ? ours : filename
}
