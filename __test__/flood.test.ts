// A child that prints 1 GiB: the parent's memory stays bounded however the output is read.
// Each case runs in a fresh Node process (fixtures/flood.js) so that its RSS is its own.

import test from 'ava'

import { LINUX, linuxOnly, runNode } from './helpers'

const GiB = 1 << 30
const MAX_RSS = 100 * 1000 * 1000
/** How far the child may get ahead of a reader that does not read: kernel buffers plus the
 * readable side's own small queue. Reading on regardless would go far beyond. */
const MAX_LAG = 4 << 20

linuxOnly(LINUX.proc, test)('1 GiB read as it comes, with a pause: every byte arrives and RSS stays under 100 MB', async (t) => {
  const run = await runNode('flood.js', ['read'], { timeoutMs: 120000 })
  t.is(run.code, 0, run.stderr)
  const report = JSON.parse(run.stdout)
  t.is(report.total, GiB)
  t.deepEqual(report.status, { exitCode: 0, signal: null, status: 0 })
  t.true(report.peakRss < MAX_RSS, `peak RSS ${report.peakRss}`)
  t.true(report.lagWhilePaused >= 0 && report.lagWhilePaused < MAX_LAG, `lag ${report.lagWhilePaused}`)
})

linuxOnly(LINUX.proc, test)('1 GiB never read: the child blocks and RSS stays under 100 MB', async (t) => {
  const run = await runNode('flood.js', ['unread'], { timeoutMs: 60000 })
  t.is(run.code, 0, run.stderr)
  const report = JSON.parse(run.stdout)
  t.true(report.written > 0 && report.written < MAX_LAG, `written ${report.written}`)
  t.true(report.rss < MAX_RSS, `RSS ${report.rss}`)
  t.deepEqual(report.status, { exitCode: null, signal: 'SIGKILL', status: 9 })
})
