#!/usr/bin/env node
// Runs node-pty's own Unix tests (lib/unixTerminal.test.js and lib/terminal.test.js, where npm
// installed node-pty) against napi-pty/node-pty, with mocha as node-pty's own `npm test` does.
// scripts/node-pty-redirect.js, preloaded here and (through NODE_OPTIONS) into the Node
// processes the tests start, makes their `require` of node-pty's public modules load ours.
//
// Left out: the `checkType` tests, which call the private `_checkType` of node-pty's own
// abstract Terminal class; they exercise node-pty's code whatever the redirect, not ours.
// With --no-timing (as the ava suite runs it), also the five tests whose outcome depends on a
// timer of 200 to 300 ms: the four signal tests (a signal must land while the child is up, its
// handler installed, and before its own timer ends) and 'should not leak child process' (it
// counts node processes right after sending SIGINT, without waiting for the child to die).
// They pass when run alone; in the whole suite, on a busy machine, those windows are missed,
// against node-pty itself too (its leak test failed 2 runs in 6 here).
//
// One test counts the machine's node processes with `ps -ax`; where `unshare` can give the
// run its own pid namespace, other work on the machine cannot skew that count.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const nodePty = path.dirname(require.resolve('node-pty/package.json', { paths: [root] }))
const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] })
const redirect = path.join(__dirname, 'node-pty-redirect.js')
const tests = ['lib/unixTerminal.test.js', 'lib/terminal.test.js']
const TIMED = ['signals in parent and child', 'should not leak child process']
const EXCLUDED = ['checkType', ...(process.argv.includes('--no-timing') ? TIMED : [])].join('|')

// node-pty's published package lacks the one fixture its encoding tests read (it is in its
// repository): one character, æ, in UTF-8, no newline. Made for the run, removed after.
const fixture = path.join(nodePty, 'fixtures', 'utf8-character.txt')
const made = !fs.existsSync(fixture)
if (made) {
  fs.mkdirSync(path.dirname(fixture), { recursive: true })
  fs.writeFileSync(fixture, Buffer.from([0xc3, 0xa6]))
}

const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require=${redirect}`.trim() }
const args = [mocha, '-R', 'spec', '--exit', '--timeout', '30000', '--grep', EXCLUDED, '--invert', ...tests]
const isolated = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' }).status === 0
const [command, argv] = isolated
  ? ['unshare', ['--pid', '--fork', '--mount-proc', process.execPath, ...args]]
  : [process.execPath, args]
console.log(`node-pty ${require(path.join(nodePty, 'package.json')).version}'s tests against napi-pty/node-pty${isolated ? ' (own pid namespace)' : ''}`)
const run = spawnSync(command, argv, { cwd: nodePty, env, stdio: 'inherit' })
if (made) fs.rmSync(path.dirname(fixture), { recursive: true, force: true })
process.exit(run.status ?? 1)
