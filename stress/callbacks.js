'use strict'
// An exception thrown in a user callback: stream listeners, a write callback, spawn's hooks.
// One case per process (`worker.js callback '{"case": NAME}'`), because what is checked is
// the whole process: the error reaches the user exactly once (as an uncaught exception for
// an event listener, as Node's own streams do; as the rejection of spawn for a hook), the
// child's status still arrives, nothing is left, later forks work, and the event loop is let
// go (the process ends by itself: the runner sees a `loopHeld` line otherwise).

const fs = require('node:fs')
const path = require('node:path')

const c = require('./common')

const { pty, m } = c

class Boom extends Error {}

/** Output then a quick exit. */
const PRINT = ['/bin/sh', '-c', 'echo one; echo two']

/** A listener that throws `boom` the first time it is called (a listener called again would
 * throw again, and rightly be reported again). */
function throwOnce(boom, before = () => {}) {
  let thrown = false
  return (...args) => {
    before(...args)
    if (thrown) return
    thrown = true
    throw boom
  }
}

/** Each case gets a fresh Boom and the fds it may use (opened before the baseline), and
 * returns the child's status if it has one. It keeps no reference to the child: a child the
 * user drops must be let go (its master closed by GC when its output was never read). */
const cases = {
  async 'data listener'(boom) {
    const child = await pty.fork(PRINT)
    child.on('data', throwOnce(boom))
    return { status: await child.wait() }
  },
  async 'readable listener'(boom) {
    const child = await pty.fork(PRINT)
    child.on(
      'readable',
      throwOnce(boom, () => {
        while (child.read() !== null);
      }),
    )
    return { status: await child.wait() }
  },
  async 'end listener'(boom) {
    const child = await pty.fork(PRINT)
    child.on('data', () => {})
    child.on('end', () => {
      throw boom
    })
    return { status: await child.wait() }
  },
  async 'exit listener, output read'(boom) {
    const child = await pty.fork(PRINT)
    child.on('data', () => {})
    child.on('exit', () => {
      throw boom
    })
    return { status: await child.wait() }
  },
  async 'exit listener, output never read'(boom) {
    const child = await pty.fork(PRINT)
    child.on('exit', () => {
      throw boom
    })
    return { status: await child.wait() }
  },
  async 'close listener'(boom) {
    const child = await pty.fork(PRINT)
    child.on('close', () => {
      throw boom
    })
    await c.collect(child)
    return { status: await child.wait() }
  },
  async 'error listener'(boom) {
    const child = await pty.fork(['cat'])
    child.on('error', () => {
      throw boom
    })
    child.destroy(new Error('first'))
    return { status: await child.wait() }
  },
  async 'write callback'(boom) {
    const child = await pty.fork(['cat'])
    child.on('data', () => {})
    child.write('hello\n', () => {
      throw boom
    })
    child.end()
    return { status: await child.wait() }
  },
  async 'spawn masterRead throws'(boom, fds) {
    await pty.spawn(['/bin/sh', '-c', 'echo one; exec sleep 30'], {
      stdin: fds.stdin,
      stdout: fds.stdout,
      masterRead() {
        throw boom
      },
    })
  },
  async 'spawn masterRead rejects'(boom, fds) {
    await pty.spawn(['/bin/sh', '-c', 'echo one; exec sleep 30'], {
      stdin: fds.stdin,
      stdout: fds.stdout,
      async masterRead() {
        throw boom
      },
    })
  },
  async 'spawn stdinRead throws'(boom, fds) {
    await pty.spawn(['/bin/sh', '-c', 'read line; exec sleep 30'], {
      stdin: fds.input,
      stdout: fds.stdout,
      stdinRead() {
        throw boom
      },
    })
  },
  async 'spawn masterRead returns a number'(_boom, fds) {
    await pty.spawn(['/bin/sh', '-c', 'echo one; exec sleep 30'], { stdin: fds.stdin, stdout: fds.stdout, masterRead: () => 42 })
  },
}

async function callback({ case: name }) {
  const run = cases[name]
  if (!run) throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(', ')}`)
  const uncaught = []
  process.on('uncaughtException', (err) => uncaught.push(err))
  const dir = c.tempDir()
  fs.writeFileSync(path.join(dir, 'input'), 'hello\n')
  const fds = {
    stdin: fs.openSync('/dev/null', 'r'),
    stdout: fs.openSync('/dev/null', 'w'),
    input: fs.openSync(path.join(dir, 'input'), 'r'),
  }
  await c.warmUp()
  const base = c.baseline()
  const boom = new Boom(`thrown by the ${name}`)
  let outcome
  let result
  try {
    result = await run(boom, fds)
    outcome = { resolved: true }
  } catch (err) {
    outcome = { rejected: err }
  }
  await new Promise((resolve) => setImmediate(resolve))
  const left = await c.leftovers(base, { timeoutMs: 5000 })
  const later = await pty.fork(['echo', 'later'])
  const laterText = (await c.collect(later)).toString()
  await later.wait()

  const expectRejection = name.startsWith('spawn')
  const rejected = outcome.rejected
  const saw = {
    outcome: rejected
      ? `rejected: ${rejected.constructor.name}${rejected.code ? ` ${rejected.code}` : ''}: ${rejected.message}`
      : 'resolved',
    uncaught: uncaught.map((err) => `${err.constructor.name}: ${err.message}`),
    status: result?.status,
  }
  const checks = []
  if (name === 'spawn masterRead returns a number') {
    checks.push(
      m.check(
        'spawn rejects with a TypeError ERR_INVALID_RETURN_VALUE',
        rejected instanceof TypeError && rejected.code === 'ERR_INVALID_RETURN_VALUE' && uncaught.length === 0,
        saw,
      ),
    )
  } else if (expectRejection) {
    checks.push(m.check('spawn rejects with the hook’s own exception, once', rejected === boom && uncaught.length === 0, saw))
  } else {
    checks.push(
      m.check('the exception reaches the user once, as an uncaught exception', uncaught.length === 1 && uncaught[0] === boom, saw),
      m.check('wait() still resolves with the child’s status', outcome.resolved && result.status && typeof result.status.status === 'number', saw),
    )
  }
  checks.push(m.check('later forks work', laterText === 'later\r\n', laterText), ...c.leakChecks(left, base))
  // The runner checks the one thing left: that this process now ends by itself.
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ loopHeld: true, active: c.events.active.size })}\n`)
    process.exit(3)
  }, 5000).unref()
  return { scenario: 'callback', case: name, strategy: c.strategy(), saw, checks }
}

module.exports = { callback, cases, caseNames: Object.keys(cases) }
