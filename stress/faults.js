'use strict'
// Faults while children run: killed, hung up, destroyed, ignoring signals, leaving a daemon on
// the terminal. Each case says what the user saw, checks it, and checks nothing is left.

const c = require('./common')

const { pty, m } = c

/** Bytes of output to let through before the fault, so it strikes mid-output. */
const MID = 256 * 1024

/** Resolves on the first `count` bytes of output (flowing mode) and keeps counting after. */
function counter(child) {
  const state = { bytes: 0, text: '', ended: false, closed: false, errors: [] }
  let wake = () => {}
  child.on('data', (chunk) => {
    state.bytes += chunk.length
    if (state.text.length < 4096) state.text += chunk.toString()
    wake()
  })
  state.end = new Promise((resolve) =>
    child.once('end', () => {
      state.ended = true
      wake()
      resolve()
    }),
  )
  child.on('close', () => (state.closed = true))
  child.on('error', (err) => state.errors.push(err.message))
  state.atLeast = async (count) => {
    while (state.bytes < count && !state.ended) await new Promise((resolve) => (wake = resolve))
    if (state.bytes < count) throw new Error(`output ended after ${state.bytes} bytes`)
  }
  state.until = async (pattern) => {
    const seen = () => (typeof pattern === 'string' ? state.text.includes(pattern) : pattern.test(state.text))
    while (!seen() && !state.ended) await new Promise((resolve) => (wake = resolve))
    if (!seen()) throw new Error(`output ended without ${String(pattern)}: ${JSON.stringify(state.text.slice(0, 200))}`)
  }
  return state
}

/** Ignores HUP and TERM, says so, then sleeps: only SIGKILL ends it. One process, no child. */
const STUBBORN = [
  'import signal, sys, time',
  'signal.signal(signal.SIGHUP, signal.SIG_IGN)',
  'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
  "sys.stdout.write('ready\\n'); sys.stdout.flush()",
  'time.sleep(3600)',
].join('\n')

const cases = [
  {
    name: 'child SIGKILLed mid-output',
    async run() {
      const child = await pty.fork(['yes', 'napi-pty stress'])
      const out = counter(child)
      await out.atLeast(MID)
      const sent = child.kill('SIGKILL')
      const status = await child.wait()
      await out.end
      return {
        saw: { killSent: sent, status, bytesRead: out.bytes, outputEnded: out.ended, errors: out.errors },
        checks: [
          m.check('kill() returned true', sent === true),
          m.check('wait() resolves with signal SIGKILL', status.signal === 'SIGKILL' && status.exitCode === null, status),
          m.check('the output ends, no error event', out.ended && out.errors.length === 0, out.errors),
        ],
      }
    },
  },
  {
    name: 'reader destroyed mid-output',
    async run() {
      const child = await pty.fork(['yes', 'napi-pty stress'])
      const out = counter(child)
      await out.atLeast(MID)
      child.destroy()
      const fd = child.fd
      const status = await child.wait()
      await new Promise((resolve) => setImmediate(resolve))
      return {
        saw: { fdAfterDestroy: fd, status, bytesRead: out.bytes, closeEvent: out.closed, errors: out.errors },
        checks: [
          m.check('the master is released at once (fd -1)', fd === -1, fd),
          m.check('wait() resolves: the child was hung up (SIGHUP)', status.signal === 'SIGHUP', status),
          m.check('close event, no error event', out.closed && out.errors.length === 0, out.errors),
        ],
      }
    },
  },
  {
    name: 'reader destroyed with an error mid-output',
    async run() {
      const child = await pty.fork(['yes', 'napi-pty stress'])
      const out = counter(child)
      await out.atLeast(MID)
      child.destroy(new Error('reader gave up'))
      const status = await child.wait()
      await new Promise((resolve) => setImmediate(resolve))
      return {
        saw: { status, errors: out.errors, closeEvent: out.closed },
        checks: [
          m.check('the error event carries the reader’s error', out.errors.length === 1 && out.errors[0] === 'reader gave up', out.errors),
          m.check('wait() resolves: the child was hung up (SIGHUP)', status.signal === 'SIGHUP', status),
        ],
      }
    },
  },
  {
    name: 'master closed (close()) under a running child mid-output',
    async run() {
      const child = await pty.fork(['yes', 'napi-pty stress'])
      const out = counter(child)
      await out.atLeast(MID)
      child.close()
      await out.end
      // (A write error destroys the stream, so it comes after the end of the output.)
      const writeErr = await new Promise((resolve) => child.write('late\n', resolve))
      const status = await child.wait()
      return {
        saw: { status, outputEnded: out.ended, writeAfter: writeErr?.code, fd: child.fd },
        checks: [
          m.check('wait() resolves with SIGHUP', status.signal === 'SIGHUP', status),
          m.check('the output ends', out.ended),
          m.check('write() after close() fails with ERR_PTY_CLOSED', writeErr?.code === 'ERR_PTY_CLOSED', writeErr?.code),
        ],
      }
    },
  },
  {
    name: 'close() twice, and again after the exit',
    async run() {
      const child = await pty.fork(['cat'])
      const thrown = []
      for (let i = 0; i < 2; i++) {
        try {
          child.close()
        } catch (err) {
          thrown.push(String(err))
        }
      }
      const status = await child.wait()
      try {
        child.close()
      } catch (err) {
        thrown.push(String(err))
      }
      return {
        saw: { thrown, status },
        checks: [
          m.check('no close() throws', thrown.length === 0, thrown),
          m.check('wait() resolves with SIGHUP', status.signal === 'SIGHUP', status),
        ],
      }
    },
  },
  {
    name: 'child ignoring SIGHUP and SIGTERM, ended by asyncDispose (await using)',
    async run() {
      const child = await pty.fork([c.PYTHON, '-I', '-S', '-c', STUBBORN])
      const out = counter(child)
      await out.until('ready')
      const ignored = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(require('node:fs').readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]}`)
      const ignoresBoth = (ignored & (1n << 0n)) !== 0n && (ignored & (1n << 14n)) !== 0n
      const termSent = child.kill('SIGTERM')
      const t0 = performance.now()
      // What `await using child = await fork(...)` runs at the end of its block.
      await child[Symbol.asyncDispose]()
      const ms = c.since(t0)
      const status = child.exitStatus
      return {
        saw: { ignoresHupAndTerm: ignoresBoth, termSent, status, disposeMs: ms },
        checks: [
          m.check('the child really ignores SIGHUP and SIGTERM', ignoresBoth),
          m.check('dispose ends it with SIGKILL and waits for it', status?.signal === 'SIGKILL' && m.procState(child.pid) === undefined, status),
        ],
      }
    },
  },
  {
    name: 'child forks a daemon that keeps the terminal and keeps printing',
    async run() {
      // A background job (no setsid) with SIGHUP ignored: it outlives the child on the
      // terminal and prints every 10 ms until it is killed.
      const t0 = performance.now()
      const child = await pty.fork(['/bin/sh', '-c', 'trap "" HUP; (while :; do echo tick; sleep 0.01; done) & echo "daemon $!"'])
      const out = counter(child)
      // (The daemon's first tick may come before the shell's line.)
      await out.until(/daemon \d+\r\n/)
      const daemon = Number(/daemon (\d+)/.exec(out.text)[1])
      const status = await child.wait()
      await out.end
      const endMs = c.since(t0)
      const daemonAlive = m.procState(daemon) !== undefined
      const heldTerminal = (() => {
        try {
          return require('node:fs').readlinkSync(`/proc/${daemon}/fd/1`).startsWith(child.ptsName)
        } catch {
          return false
        }
      })()
      try {
        process.kill(daemon, 'SIGKILL')
      } catch {
        // Already gone.
      }
      await m.waitFor(() => m.procState(daemon) === undefined)
      return {
        saw: { status, outputEnded: out.ended, msFromForkToEnd: endMs, outputBytes: out.bytes, daemonAliveAtEnd: daemonAlive, daemonHeldTerminal: heldTerminal },
        checks: [
          m.check('wait() resolves with the child’s own status', status.exitCode === 0 && status.signal === null, status),
          m.check('the output ends although the daemon holds the terminal', out.ended),
          m.check('the daemon really was alive on the terminal at the end', daemonAlive && heldTerminal, { daemonAlive, heldTerminal }),
        ],
      }
    },
  },
  {
    name: 'resize() and write() after the output was read to its end (for await) and wait() resolved, 500 times',
    async run() {
      // README: after the child exited resize() fails with ERR_PTY_EXITED (ERR_PTY_CLOSED is
      // for close()). `for await` destroys the stream at the end of the output.
      const counts = { resize: {}, write: {} }
      for (let i = 0; i < 500; i++) {
        const child = await pty.fork(['true'])
        await c.collect(child)
        await child.wait()
        let code = 'no error'
        try {
          child.resize(100, 30)
        } catch (err) {
          code = err.code
        }
        counts.resize[code] = (counts.resize[code] ?? 0) + 1
        const writeErr = await new Promise((resolve) => child.write('late\n', resolve))
        counts.write[writeErr?.code ?? 'no error'] = (counts.write[writeErr?.code ?? 'no error'] ?? 0) + 1
      }
      return {
        saw: counts,
        checks: [
          m.check('resize() always fails with ERR_PTY_EXITED', counts.resize.ERR_PTY_EXITED === 500, counts.resize),
          // A write after the exit is dropped with ERR_PTY_EXITED, never an 'error' event,
          // also once `for await` has destroyed the stream at the end of the output.
          m.check('write() always fails, with ERR_PTY_EXITED', counts.write.ERR_PTY_EXITED === 500, counts.write),
        ],
      }
    },
  },
]

async function faults({ only } = {}) {
  await c.warmUp()
  const results = []
  for (const fault of cases) {
    if (only && !only.includes(fault.name)) continue
    const base = c.baseline()
    const t0 = performance.now()
    let result
    try {
      result = await fault.run()
    } catch (err) {
      result = { saw: { threw: String(err?.stack ?? err) }, checks: [m.check('the case ran to its end', false, String(err))] }
    }
    const ms = c.since(t0)
    const left = await c.leftovers(base)
    results.push({ name: fault.name, ms, saw: result.saw, checks: [...result.checks, ...c.leakChecks(left, base)] })
  }
  // And forks still work afterwards.
  const after = await pty.fork(['echo', 'still working'])
  const text = (await c.collect(after)).toString()
  return {
    scenario: 'faults',
    strategy: c.strategy(),
    cases: results,
    checks: [
      ...results.flatMap((r) => r.checks.map((ch) => ({ ...ch, name: `${r.name}: ${ch.name}` }))),
      m.check('forks still work after every fault', text === 'still working\r\n', text),
    ],
  }
}

module.exports = { faults, cases }
