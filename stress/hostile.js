'use strict'
// Hostile input, property-based (fast-check): any value of any type in any argument gives a
// working child or a typed error, never a crash, a hang or a leak. Every run is followed by a
// leak check (fds back to the baseline table, no child left); fast-check's per-run timeout is
// the hang guard. Plus the exact answers for argv over ARG_MAX (E2BIG) and invalid UTF-16.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const fc = require('fast-check')

const c = require('./common')

const { pty, m } = c

/** Programs that exit by themselves and print only their arguments (env: without any). */
const SAFE_PROGRAMS = ['true', 'echo', '/bin/echo', '/usr/bin/true', 'env']

/** The options records the spawn property builds (so their fds can be made safe). A WeakSet,
 * not a mark on the object: asking a hostile Proxy whether it has the mark would throw. */
const GENERATED = new WeakSet()

/** The exception a user's getter, Proxy trap or hook throws: it may come back as it is. */
class UserError extends Error {}
const USER_ERROR = new UserError('thrown by user code')

/** Labels a value for fast-check's reports without touching it (a Proxy that throws on
 * every trap must not break the report of a failure). */
function labelled(value, label) {
  try {
    Object.defineProperty(value, fc.toStringMethod, { value: () => label })
  } catch {
    // Frozen or a Proxy: the Proxy answers for itself below.
  }
  return value
}

/** An object every operation on which throws the user's error. */
function throwingProxy(target) {
  return new Proxy(target, {
    get(_t, key) {
      // fast-check's own probes (how to print or clone a value) are answered.
      if (key === fc.toStringMethod) return () => `throwingProxy(${Array.isArray(target) ? '[]' : '{}'})`
      if (key === fc.cloneMethod || key === fc.asyncToStringMethod) return undefined
      throw USER_ERROR
    },
    has(_t, key) {
      if (key === fc.toStringMethod) return true
      if (key === fc.cloneMethod || key === fc.asyncToStringMethod) return false
      throw USER_ERROR
    },
    ownKeys() {
      throw USER_ERROR
    },
    getOwnPropertyDescriptor() {
      throw USER_ERROR
    },
    getPrototypeOf() {
      throw USER_ERROR
    },
  })
}

/** Values no ordinary generator makes: throwing getters and Proxies, boxed strings, an
 * object that converts to a string, an array-like. Fresh each time. */
const exotic = fc.constantFrom(
  'throwing-proxy-object',
  'throwing-proxy-array',
  'throwing-getters',
  'boxed-string',
  'to-primitive',
  'array-like',
  'frozen-empty',
  'null-prototype',
).map((kind) => {
  switch (kind) {
    case 'throwing-proxy-object':
      return throwingProxy({})
    case 'throwing-proxy-array':
      return throwingProxy([])
    case 'throwing-getters': {
      const obj = {}
      for (const key of ['cwd', 'env', 'cols', 'rows', 'uid', 'gid', 'term', 'echo', 'stdin', 'stdout', 'masterRead', 'stdinRead', 'signal', '0', 'length']) {
        Object.defineProperty(obj, key, { enumerable: true, get: () => { throw USER_ERROR } })
      }
      return labelled(obj, '{throwing getters}')
    }
    case 'boxed-string':
      return labelled(new String('echo'), 'new String("echo")')
    case 'to-primitive':
      return labelled({ [Symbol.toPrimitive]: () => 'echo', toString: () => 'echo' }, '{toPrimitive: "echo"}')
    case 'array-like':
      return labelled({ 0: 'echo', 1: 'x', length: 2 }, '{0: "echo", length: 2}')
    case 'frozen-empty':
      return Object.freeze({})
    default:
      return labelled(Object.create(null), 'Object.create(null)')
  }
})

/** One character of a hostile string: NUL, lone surrogates, shell syntax, any code point. */
const hostileChar = fc.oneof(
  fc.constantFrom('\0', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', ';', '$(', ')', '`', '"', "'", ' ', '\n', '\r', '\t', '=', '*', '\\', '|', '&', '>', '~', '%', '-', '\u00e9', '\u{1F600}', '\u202e'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: hostileChar, maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', '/', '-', '--', '-n', '-e', '%s%n', '$(id)', '`id`', 'a;b', "'", '"') },
  // Long: up to 1 MiB (an argv element over 128 KiB is E2BIG).
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 20 }).map((n) => 'y'.repeat(n)) },
)

/** A hostile string without NUL (which the checks refuse at once). */
const plainString = hostileString.filter((s) => !s.includes('\0'))

const hostileNumber = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, Number.MAX_VALUE, Number.EPSILON, 65535, 65536, 4294967294, 4294967295),
  fc.double(),
  fc.integer({ min: -10, max: 70000 }),
)

/** Anything at all, of any type. */
const hostileValue = fc.oneof(
  { weight: 3, arbitrary: fc.anything({ maxDepth: 2, maxKeys: 4, withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withDate: true }) },
  { weight: 2, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false, 1n, -1n, 2n ** 64n) },
  { weight: 1, arbitrary: fc.string().map((s) => Symbol(s)) },
  { weight: 1, arbitrary: fc.constant(null).map(() => labelled(() => 'echo', '() => "echo"')) },
  { weight: 1, arbitrary: exotic },
)

/** A program name that can never be a real program, built from a hostile string, so that no
 * generated name ever runs something on this machine; '' and names with NUL stay as they
 * are (the checks refuse them before any lookup). */
function tame(value) {
  if (typeof value !== 'string' || value === '' || value.includes('\0') || SAFE_PROGRAMS.includes(value)) return value
  return `napi-pty-fc-${value}`
}

function tameArgv(argv) {
  if (typeof argv === 'string') return tame(argv)
  try {
    if (Array.isArray(argv) && argv.length > 0 && !Object.isFrozen(argv)) {
      const copy = [...argv]
      copy[0] = tame(copy[0])
      if (copy[0] === 'env') copy.length = 1 // env with arguments would run them
      return copy
    }
  } catch {
    // A Proxy that throws on every access: the library cannot read a program name from it
    // either, so it goes as it is.
  }
  return argv
}

const programArgv = fc
  .tuple(
    fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...SAFE_PROGRAMS) }, { weight: 3, arbitrary: plainString }, { weight: 1, arbitrary: hostileValue }),
    fc.array(fc.oneof({ weight: 12, arbitrary: plainString }, { weight: 1, arbitrary: hostileString }, { weight: 1, arbitrary: hostileValue }), { maxLength: 4 }),
  )
  .map(([program, args]) => [program, ...args])

const argvArb = fc.oneof({ weight: 8, arbitrary: programArgv }, { weight: 1, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.array(hostileValue, { maxLength: 3 }) })

/** Mostly plausible values, sometimes anything: so that runs get past the first check and
 * reach the deeper ones (exec, chdir, setuid) as well as the argument checks. */
function mostly(plausible, weight = 6) {
  return fc.oneof({ weight, arbitrary: plausible }, { weight: 1, arbitrary: hostileValue })
}

const forkOptionFields = {
  env: mostly(fc.dictionary(plainString.filter((k) => k !== '' && !k.includes('=')), mostly(plainString, 20), { maxKeys: 4 }), 8),
  cwd: mostly(fc.oneof(fc.constantFrom('/', '/tmp', '.', '/proc/self', '/etc/passwd', '/nonexistent', '/root'), plainString), 10),
  cols: mostly(fc.integer({ min: 1, max: 65535 }), 10),
  rows: mostly(fc.integer({ min: 1, max: 65535 }), 10),
  uid: mostly(fc.oneof(fc.constantFrom(0, 65534, 4294967294), fc.integer({ min: 0, max: 2 ** 32 - 2 })), 10),
  gid: mostly(fc.oneof(fc.constantFrom(0, 65534, 4294967294), fc.integer({ min: 0, max: 2 ** 32 - 2 })), 10),
  term: mostly(plainString, 10),
  echo: mostly(fc.boolean(), 10),
}

const forkOptionsArb = fc.oneof({ weight: 10, arbitrary: fc.record(forkOptionFields, { requiredKeys: [] }) }, { weight: 1, arbitrary: hostileValue })

/** What a call gave, classified; `undefined` for an outcome the library must never give. */
function classify(outcome) {
  if ('value' in outcome) return 'resolved'
  const e = outcome.error
  if (e === USER_ERROR) return 'the user’s own exception'
  if ((e instanceof TypeError || e instanceof RangeError) && typeof e.code === 'string' && e.code.startsWith('ERR_')) {
    return `${e.constructor.name} ${e.code}`
  }
  if (e instanceof Error && e.name === 'AbortError' && e.code === 'ABORT_ERR') return 'AbortError'
  if (e instanceof Error && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.errno === 'number' && e.errno < 0 && typeof e.syscall === 'string') {
    return `Error ${e.code} (${e.syscall})`
  }
  return undefined
}

function describeError(e) {
  if (!(e instanceof Error)) return `non-Error ${typeof e}: ${String(e)}`
  return `${e.constructor.name} code=${JSON.stringify(e.code)} ${e.message.slice(0, 200)}`
}

async function attempt(f) {
  try {
    return { value: await f() }
  } catch (error) {
    return { error }
  }
}

/** Ends a child whatever it runs, and waits for it. */
async function finish(child) {
  child.close()
  child.kill('SIGKILL')
  return child.wait()
}

/**
 * Runs one property with a leak check after every run. Returns figures: runs, the outcome
 * histogram, and the counterexample if it failed.
 */
async function runProperty(name, arbitraries, body, { numRuns, seed, timeout = 30000, path, endOnFailure = false }) {
  let base = c.baseline()
  const histogram = {}
  const leak = async () => {
    const ok = await m.waitFor(() => m.newFds(base.table).length === 0 && m.children().length === 0, 10000)
    if (!ok) {
      const detail = { newFds: m.newFds(base.table), children: m.children().map((ch) => m.describePid(ch.pid)) }
      for (const ch of m.children()) {
        try {
          process.kill(ch.pid, 'SIGKILL')
        } catch {
          // Gone.
        }
      }
      await m.waitFor(() => m.children().length === 0, 5000)
      base = c.baseline()
      throw new Error(`left behind: ${JSON.stringify(detail)}`)
    }
  }
  const property = fc.asyncProperty(...arbitraries, async (...values) => {
    const label = await body(...values)
    histogram[label] = (histogram[label] ?? 0) + 1
    await leak()
  })
  const t0 = performance.now()
  const details = await fc.check(property, { numRuns, seed, timeout, path, endOnFailure })
  const ms = c.since(t0)
  let counterexample
  if (details.failed) {
    try {
      // Long runs of one character (the generated long strings) printed as a count.
      counterexample = fc
        .stringify(details.counterexample)
        .replace(/(.)\1{15,}/g, (run, ch) => `${ch}…(${run.length} times)…`)
        .slice(0, 1500)
    } catch {
      counterexample = '(unprintable)'
    }
  }
  return {
    name,
    runs: details.numRuns,
    seed: details.seed,
    failed: details.failed,
    counterexample,
    // fast-check can replay exactly this run: fc.check(property, { seed, path }).
    path: details.failed ? details.counterexamplePath : undefined,
    error: details.failed ? String(details.errorInstance?.message ?? details.error).slice(0, 600) : undefined,
    outcomes: Object.fromEntries(Object.entries(histogram).sort((a, b) => b[1] - a[1])),
    ms,
  }
}

/** Throws when an outcome is untyped; returns its label. */
function typedLabel(outcome) {
  const label = classify(outcome)
  if (label === undefined) throw new Error(`untyped outcome: ${describeError(outcome.error)}`)
  return label
}

/** The calls of the sizes property on a running child; returns the outcome labels. */
async function sizeCalls(child, labels, cols, rows, openOptions, fdChoice) {
  const resize = attempt(() => child.resize(cols, rows))
      const r = await resize
      labels.push(`resize: ${'value' in r ? 'done' : typedLabel(r)}`)
      if ('value' in r && (child.cols !== cols || child.rows !== rows)) throw new Error('resize succeeded but the size is not what was asked')
      const pair = await attempt(() => pty.openpty(openOptions))
      if ('value' in pair) {
        fs.closeSync(pair.value.master)
        fs.closeSync(pair.value.slave)
        labels.push('openpty: a pair')
      } else labels.push(`openpty: ${typedLabel(pair)}`)
      const fd = fdChoice === 'master' ? child.fd : fdChoice === 'closed' ? 99999 : fdChoice
      const get = await attempt(() => pty.getWindowSize(fd))
      labels.push(`get: ${'value' in get ? 'a size' : typedLabel(get)}`)
      const set = await attempt(() => pty.setWindowSize(fd, { cols, rows }))
      labels.push(`set: ${'value' in set ? 'done' : typedLabel(set)}`)
  return labels.join('; ')
}

const PROPERTIES = {
  /** fork(any, any). */
  async fork(params) {
    return runProperty('fork(argv, options): any values', [argvArb, forkOptionsArb], async (argv, options) => {
      const outcome = await attempt(() => pty.fork(tameArgv(argv), options))
      if ('value' in outcome) {
        const child = outcome.value
        if (!(child instanceof pty.PtyProcess) || !(child.pid > 0)) throw new Error('fork resolved with something else than a running PtyProcess')
        const status = await finish(child)
        if (typeof status.status !== 'number') throw new Error(`wait() gave ${JSON.stringify(status)}`)
        return 'a running child'
      }
      return typedLabel(outcome)
    }, params)
  },

  /** spawn(any, any): hooks, fds and AbortSignals of any kind. */
  async spawn(params, fds) {
    const hook = mostly(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('pass', 'async-pass', 'string', 'bytes') },
        { weight: 1, arbitrary: fc.constantFrom('throw', 'reject', 'null', 'empty', 'number', 'object') },
      ),
      10,
    )
    // stdout is never the FIFO: nobody reads it while spawn runs, so a child printing more than
    // a pipe holds would wait for ever (backpressure, as designed; with stdin on the same FIFO
    // it is a loop: output → FIFO → stdin → echo → output). The FIFO is for stdin.
    const fdArb = (choices) => fc.oneof(
      { weight: 40, arbitrary: fc.constantFrom(...choices) },
      { weight: 1, arbitrary: fc.integer({ min: 100000, max: 2 ** 31 - 1 }) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, NaN, 2 ** 31, Infinity, -0) },
      // Any other value but a number: a small number could be one of this process's own fds.
      { weight: 1, arbitrary: hostileValue.filter((v) => typeof v !== 'number') },
    )
    const stdinFd = fdArb(['null-r', 'null-w', 'file', 'fifo-r', 'fifo-w'])
    const stdoutFd = fdArb(['null-r', 'null-w', 'file'])
    const signal = mostly(fc.oneof({ weight: 6, arbitrary: fc.constant('live') }, { weight: 1, arbitrary: fc.constantFrom('aborted', 'abort-soon') }), 10)
    const spawnOptions = fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .record({ ...forkOptionFields, masterRead: hook, stdinRead: hook, stdin: stdinFd, stdout: stdoutFd, signal }, { requiredKeys: ['stdin', 'stdout'] })
          .map((record) => {
            GENERATED.add(record)
            return record
          }),
      },
      { weight: 1, arbitrary: hostileValue },
    )
    const spawnArgv = fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom('true', 'echo', '/bin/echo'), fc.array(hostileString, { maxLength: 3 })).map(([p, a]) => [p, ...a]) },
      { weight: 1, arbitrary: argvArb },
    )
    const hookOf = (kind) => {
      if (typeof kind !== 'string' || !['pass', 'throw', 'reject', 'null', 'empty', 'string', 'bytes', 'number', 'object', 'async-pass'].includes(kind)) return kind
      return {
        pass: () => undefined,
        'async-pass': async () => undefined,
        throw: () => {
          throw USER_ERROR
        },
        reject: async () => {
          throw USER_ERROR
        },
        null: () => null,
        empty: () => '',
        string: (data) => `[${data.length}]`,
        bytes: (data) => new Uint8Array(data),
        number: () => 42,
        object: () => ({ length: 3 }),
      }[kind]
    }
    const fdOf = (v) => (typeof v === 'string' ? ({ 'null-r': fds.nullR, 'null-w': fds.nullW, file: fds.file, 'fifo-r': fds.fifoR, 'fifo-w': fds.fifoW })[v] ?? v : v)
    return runProperty('spawn(argv, options): any values, hooks, fds and signals', [spawnArgv, spawnOptions], async (argv, options) => {
      let opts = options
      let controller
      if (options !== null && typeof options === 'object' && GENERATED.has(options)) {
        // One of our records (fast-check may give it a null prototype: kept).
        opts = Object.assign(Object.create(Object.getPrototypeOf(options)), options, {
          stdin: fdOf(options.stdin),
          stdout: fdOf(options.stdout),
          masterRead: hookOf(options.masterRead),
          stdinRead: hookOf(options.stdinRead),
        })
        if (typeof options.signal !== 'string') opts.signal = options.signal
        else if (options.signal === 'aborted') opts.signal = AbortSignal.abort()
        else if (options.signal === 'live') opts.signal = new AbortController().signal
        else if (options.signal === 'abort-soon') {
          controller = new AbortController()
          opts.signal = controller.signal
        }
      } else if (options !== null && typeof options === 'object') {
        // Any other object: as it is, but its stdin and stdout (small numbers could be this
        // process's own fds) shadowed by ours.
        opts = Object.create(options, { stdin: { value: fds.nullR }, stdout: { value: fds.nullW } })
      } else {
        opts = options
      }
      const promise = attempt(() => pty.spawn(tameArgv(argv), opts))
      controller?.abort()
      const outcome = await promise
      if ('value' in outcome) {
        const v = outcome.value
        if (!v || typeof v.status !== 'number' || !('exitCode' in v) || !('signal' in v)) throw new Error(`spawn resolved with ${JSON.stringify(v)}`)
        return 'an exit status'
      }
      return typedLabel(outcome)
    }, params)
  },

  /** kill(any) on a running child. */
  async kill(params) {
    // (Objects without a prototype are left to an explicit check: see limits().)
    const noNullPrototype = hostileValue.filter((v) => {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return true
      try {
        return Object.getPrototypeOf(v) !== null
      } catch {
        return true // a Proxy that throws: kept
      }
    })
    const signal = fc.oneof(fc.constantFrom(...Object.keys(os.constants.signals)), fc.integer({ min: -5, max: 70 }), hostileString, noNullPrototype)
    return runProperty('kill(signal): any value', [signal], async (sig) => {
      const child = await pty.fork(['cat'])
      let outcome
      try {
        outcome = { value: child.kill(sig) }
      } catch (error) {
        outcome = { error }
      } finally {
        await finish(child)
      }
      if ('value' in outcome) {
        if (typeof outcome.value !== 'boolean') throw new Error(`kill gave ${String(outcome.value)}`)
        return 'a boolean'
      }
      const label = typedLabel(outcome)
      // (Converting the user's own object to a name may throw the user's own exception.)
      if (label !== 'TypeError ERR_UNKNOWN_SIGNAL' && label !== 'the user’s own exception') throw new Error(`kill threw ${label}`)
      return label
    }, params)
  },

  /** resize(any, any), openpty(any), setWindowSize(our fd, any) and getWindowSize(any). */
  async sizes(params) {
    // (undefined is left to an explicit check, see limits(): resize(cols, undefined) is bug 5.)
    const dim = fc.oneof(hostileNumber, hostileValue).filter((v) => v !== undefined)
    const fdArb = fc.oneof(fc.constantFrom('master', 'closed'), fc.integer({ min: 100000, max: 2 ** 31 - 1 }), hostileValue.filter((v) => typeof v !== 'number'), fc.constantFrom(-1, 1.5, NaN))
    return runProperty('resize, openpty, getWindowSize, setWindowSize: any values', [dim, dim, hostileValue, fdArb], async (cols, rows, openOptions, fdChoice) => {
      const labels = []
      const child = await pty.fork(['cat'])
      try {
        return await sizeCalls(child, labels, cols, rows, openOptions, fdChoice)
      } finally {
        await finish(child)
      }
    }, params)
  },

  /** Sparse arrays as argv: holes where strings should be. */
  async sparse(params) {
    const sparseArgv = fc.sparseArray(fc.constantFrom('echo', 'x', 'true'), { minNumElements: 1, maxLength: 4, noTrailingHole: false }).filter((a) => a.length > 0 && Object.keys(a).length < a.length)
    return runProperty('fork(argv) with holes in the argv array', [sparseArgv], async (argv) => {
      const outcome = await attempt(() => pty.fork(argv))
      if ('value' in outcome) {
        await finish(outcome.value)
        return 'a running child'
      }
      const label = typedLabel(outcome)
      if (!label.startsWith('TypeError')) throw new Error(`a hole in argv gave ${label}`)
      return label
    }, params)
  },

  /** argv and env reach the child byte for byte: no shell, and strings are UTF-8 encoded
   * (a lone surrogate becomes U+FFFD, as Buffer.from does). */
  async bytes(params) {
    const noNul = hostileString.filter((s) => !s.includes('\0') && Buffer.byteLength(s) < 100000)
    const script = 'import os, sys, json; print(json.dumps([os.fsencode(a).hex() for a in sys.argv[1:]] + [os.environb.get(b"NAPI_PTY_FC", b"").hex()]))'
    return runProperty('argv and env values reach the child byte for byte', [fc.array(noNul, { maxLength: 5 }), noNul], async (args, value) => {
      const child = await pty.fork([c.PYTHON, '-I', '-S', '-c', script, ...args], { env: { NAPI_PTY_FC: value } })
      const text = (await c.collect(child)).toString()
      await child.wait()
      const got = JSON.parse(text)
      const want = [...args, value].map((s) => Buffer.from(s, 'utf8').toString('hex'))
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`the child got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
      return /[\uD800-\uDFFF]/.test([...args, value].join('')) ? 'identical (with a lone surrogate → U+FFFD)' : 'identical'
    }, params)
  },
}

/** Exact answers for the limits: ARG_MAX, MAX_ARG_STRLEN, PATH_MAX; and invalid UTF-16. */
async function limits() {
  const out = {}
  const show = (o) => ('value' in o ? 'resolved' : classify(o) ?? describeError(o.error))
  const cases = {
    'one argument of 128 KiB + 1 (over MAX_ARG_STRLEN)': () => pty.fork(['true', 'x'.repeat(128 * 1024 + 1)]),
    'argv of 3 MiB in 64 KiB arguments (over ARG_MAX)': () => pty.fork(['true', ...Array(48).fill('x'.repeat(64 * 1024))]),
    'argv of 200,000 short arguments': () => pty.fork(['true', ...Array(200000).fill('abcdefghijklmnop')]),
    'an env value of 3 MiB': () => pty.fork(['true'], { env: { BIG: 'y'.repeat(3 << 20) } }),
    'argv[0] of 1 MiB': () => pty.fork(['y'.repeat(1 << 20)]),
    'cwd of 5,000 bytes (over PATH_MAX)': () => pty.fork(['true'], { cwd: `/${'a'.repeat(5000)}` }),
    'argv of 1.5 MiB in 64 KiB arguments (under ARG_MAX)': () => pty.fork(['true', ...Array(24).fill('x'.repeat(64 * 1024))]),
  }
  for (const [name, f] of Object.entries(cases)) {
    const o = await attempt(f)
    if ('value' in o) await finish(o.value)
    out[name] = show(o)
  }
  // kill() with an object that has no prototype (String() cannot convert it).
  {
    const child = await pty.fork(['cat'])
    let o
    try {
      o = { value: child.kill(Object.create(null)) }
    } catch (error) {
      o = { error }
    }
    await finish(child)
    out['kill(Object.create(null))'] = show(o)
  }
  // resize() with a dimension missing.
  {
    const child = await pty.fork(['cat'], { cols: 100, rows: 40 })
    const o = await attempt(() => child.resize(120, undefined))
    out['resize(120, undefined) on a 100×40 terminal'] = 'value' in o ? `resized to ${pty.getWindowSize(child.fd).cols}×${pty.getWindowSize(child.fd).rows}` : show(o)
    await finish(child)
  }
  // What reaches the child from strings that are not valid UTF-16.
  const samples = ['a\uD800b', '\uDC00', '\uDBFF\uDBFF', '\uD83D\uDE00', 'ok\u00e9']
  const script = 'import os, sys, json; print(json.dumps([os.fsencode(a).hex() for a in sys.argv[1:]] + [os.environb[b"X"].hex(), os.environb[b"K\\xef\\xbf\\xbd"].hex()]))'
  const child = await pty.fork([c.PYTHON, '-I', '-S', '-c', script, ...samples], { env: { X: 'z\uDFFFz', 'K\uD800': 'v' } })
  const received = JSON.parse((await c.collect(child)).toString())
  await child.wait()
  const surrogates = Object.fromEntries(
    [...samples, 'env X=z\\uDFFFz', 'env key K\\uD800 (value v)'].map((s, i) => [JSON.stringify(s).replace(/^"|"$/g, ''), received[i]]),
  )
  return { limits: out, surrogates, expectedSurrogates: [...samples, 'z\uDFFFz', 'v'].map((s) => Buffer.from(s).toString('hex')) }
}

async function hostile({ runs = 100, seed = 42, only, path: replay, timeout, endOnFailure } = {}) {
  const dir = c.tempDir()
  const fifo = path.join(dir, 'fifo')
  require('node:child_process').execFileSync('mkfifo', [fifo])
  const fds = {
    nullR: fs.openSync('/dev/null', 'r'),
    nullW: fs.openSync('/dev/null', 'w'),
    file: fs.openSync(path.join(dir, 'file'), 'a'),
    fifoR: fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK),
  }
  fds.fifoW = fs.openSync(fifo, fs.constants.O_WRONLY)
  await c.warmUp()
  const before = m.fdTable()
  await pty.spawn(['true'], { stdin: fds.nullR, stdout: fds.nullW })
  await m.waitFor(() => m.newFds(before).length === 0)
  const base = c.baseline()
  const properties = []
  for (const [name, run] of Object.entries(PROPERTIES)) {
    if (only && !only.includes(name)) continue
    properties.push({ key: name, ...(await run({ numRuns: runs, seed, path: replay, timeout, endOnFailure }, fds)) })
    // The FIFO must not fill up with what children wrote to it.
    try {
      while (fs.readSync(fds.fifoR, Buffer.alloc(65536)) > 0);
    } catch {
      // Empty (EAGAIN).
    }
    fs.ftruncateSync(fds.file, 0)
  }
  const lim = only && !only.includes('limits') ? undefined : await limits()
  const left = await c.leftovers(base)
  const checks = properties.map((p) =>
    m.check(`property: ${p.name} (${p.runs} runs)`, !p.failed, p.failed ? { counterexample: p.counterexample, error: p.error } : undefined),
  )
  if (lim) {
    const e2big = 'Error E2BIG (execve)'
    checks.push(
      m.check('an argument over MAX_ARG_STRLEN: E2BIG from execve', lim.limits['one argument of 128 KiB + 1 (over MAX_ARG_STRLEN)'] === e2big, lim.limits),
      m.check('argv over ARG_MAX: E2BIG from execve', lim.limits['argv of 3 MiB in 64 KiB arguments (over ARG_MAX)'] === e2big, lim.limits),
      m.check('an environment over ARG_MAX: E2BIG from execve', lim.limits['an env value of 3 MiB'] === e2big, lim.limits),
      m.check('argv under ARG_MAX runs', lim.limits['argv of 1.5 MiB in 64 KiB arguments (under ARG_MAX)'] === 'resolved', lim.limits),
      m.check('a cwd over PATH_MAX: ENAMETOOLONG from chdir', lim.limits['cwd of 5,000 bytes (over PATH_MAX)'] === 'Error ENAMETOOLONG (chdir)', lim.limits),
      m.check('resize(cols, undefined): TypeError ERR_INVALID_ARG_TYPE', lim.limits['resize(120, undefined) on a 100×40 terminal'] === 'TypeError ERR_INVALID_ARG_TYPE', lim.limits['resize(120, undefined) on a 100×40 terminal']),
      m.check('kill(Object.create(null)): TypeError ERR_UNKNOWN_SIGNAL', lim.limits['kill(Object.create(null))'] === 'TypeError ERR_UNKNOWN_SIGNAL', lim.limits['kill(Object.create(null))']),
      m.check('lone surrogates reach the child as U+FFFD (EF BF BD), as Buffer.from encodes them', JSON.stringify(Object.values(lim.surrogates)) === JSON.stringify(lim.expectedSurrogates), lim.surrogates),
    )
  }
  checks.push(...c.leakChecks(left, base))
  return { scenario: 'hostile', strategy: c.strategy(), properties, limits: lim, checks }
}

module.exports = { hostile, classify, PROPERTIES }
