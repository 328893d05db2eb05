'use strict'
// Starts `stress/worker.js SCENARIO PARAMS` in a fresh Node process and turns what happened
// into a result: the scenario's report, plus checks only the parent can make — the process
// exited by itself with status 0 (no crash, no abort), it printed a report, and it let its
// event loop go (no `loopHeld` line). Used by the runner (run.js) and the ava smoke test.

const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')

const WORKER = path.join(__dirname, 'worker.js')

/** How to run a command with RLIMIT_NOFILE lowered to `n` (soft and hard). */
function withFdLimit(n) {
  if (fs.existsSync('/usr/bin/prlimit')) return [`/usr/bin/prlimit`, `--nofile=${n}:${n}`]
  return ['/bin/sh', '-c', `ulimit -n ${n} && exec "$@"`, 'sh']
}

/**
 * @param {string} scenario
 * @param {object} params
 * @param {{ strategy?: 'fork' | 'clone-vfork', read?: 'epoll' | 'uring', fdLimit?: number, hangGuardMs?: number }} options
 *   `read`: the read path to ask for (`NAPI_PTY_READ`), which the worker then checks was the one
 *   taken; without it the worker inherits this process's setting and checks nothing about it.
 */
function runWorker(scenario, params = {}, options = {}) {
  const env = { ...process.env }
  delete env.NAPI_PTY_STRATEGY
  if (options.strategy === 'fork') env.NAPI_PTY_STRATEGY = 'fork'
  if (options.read) env.NAPI_PTY_READ = options.read
  const command = [...(options.fdLimit ? withFdLimit(options.fdLimit) : []), process.execPath, '--expose-gc', WORKER, scenario, JSON.stringify(params), ...(options.read ? [options.read] : [])]
  const t0 = performance.now()
  const child = spawn(command[0], command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  // A hang guard only: a scenario that never ends is killed and reported as hung.
  let hung = false
  const guard = setTimeout(() => {
    hung = true
    child.kill('SIGKILL')
  }, options.hangGuardMs ?? 30 * 60 * 1000)
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(guard)
      const lines = stdout.split('\n').filter((line) => line.startsWith('{'))
      let report
      let loopHeld
      for (const line of lines) {
        try {
          const parsed = JSON.parse(line)
          if (parsed.loopHeld) loopHeld = parsed
          else if (parsed.scenario) report = parsed
        } catch {
          // Not ours.
        }
      }
      const crashed = signal !== null && !hung
      const processChecks = [
        {
          name: 'the process ran to its end (no crash, no abort, no hang)',
          ok: code === 0 && signal === null,
          detail: { code, signal, hung, stderr: stderr.slice(-1500) },
        },
        { name: 'the scenario printed its report', ok: report !== undefined },
      ]
      if (scenario === 'callback') {
        processChecks.push({
          name: 'the event loop is let go: the process ends by itself',
          ok: loopHeld === undefined && code === 0,
          detail: loopHeld,
        })
      }
      resolve({
        scenario,
        strategy: options.strategy ?? 'clone-vfork',
        // What was asked for; unset means the default (io_uring where the kernel grants it).
        read: options.read ?? env.NAPI_PTY_READ,
        params,
        fdLimit: options.fdLimit,
        report,
        exit: { code, signal, hung, crashed },
        wallMs: Math.round(performance.now() - t0),
        stderr: stderr.slice(-3000),
        checks: [...(report?.checks ?? []), ...processChecks],
      })
    })
  })
}

/** Runs `tasks` (functions returning Promises) at most `limit` at a time, keeping order. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++
        results[i] = await tasks[i]()
      }
    }),
  )
  return results
}

module.exports = { runWorker, pool, withFdLimit }
