// How a PtyProcess ends: wait() on output nobody reads, 'close' and finished() once both sides
// are done, and writes that race the child's exit.

import { finished } from 'node:stream/promises'

import test from 'ava'

import { fork, UNREAD_OUTPUT_WARNING_BYTES, type PtyProcess } from '../index'
import { OutputReader, collect, procState, runNode } from './helpers'

/** What `seq 1 n` prints on a terminal (which turns each newline into CR LF). */
function seqOutput(n: number): Buffer {
  const lines: string[] = []
  for (let i = 1; i <= n; i++) lines.push(`${i}\r\n`)
  return Buffer.from(lines.join(''))
}

/** The events of interest, in the order they came. */
function recordEvents(child: PtyProcess): string[] {
  const events: string[] = []
  for (const name of ['end', 'exit', 'finish', 'close', 'error'] as const) child.on(name, () => events.push(name))
  return events
}

// --- wait() with the output unread -----------------------------------------------------------

test('wait() with nobody reading: a child printing several MiB exits, and a later reader gets every byte', async (t) => {
  t.timeout(60000, 'hang guard: wait() never resolved')
  const expected = seqOutput(600000)
  t.true(expected.length > 4 * 1024 * 1024)
  const child = await fork(['seq', '1', '600000'])
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
  const got = await collect(child)
  t.is(got.length, expected.length)
  t.true(got.equals(expected), 'the output is the same, byte for byte')
})

test('wait() with nobody reading, twice, then a reader in flowing mode: every byte, in order', async (t) => {
  t.timeout(60000, 'hang guard: wait() never resolved')
  const expected = seqOutput(300000)
  const child = await fork(['seq', '1', '300000'])
  const [first, second] = await Promise.all([child.wait(), child.wait()])
  t.deepEqual(first, second)
  t.is(first.exitCode, 0)
  const chunks: Buffer[] = []
  child.on('data', (chunk) => chunks.push(chunk))
  await finished(child)
  t.true(Buffer.concat(chunks).equals(expected))
})

test('wait() with nobody reading, then a reader once the exit is delivered: it keeps the process alive to the end, 20 times', async (t) => {
  // A grandchild holds the terminal, so the output goes on after the exit; the stream asked for
  // more before the reader came and does not ask again, so only the reader's arrival can hold
  // the event loop. Let go, the fixture's process ends before it prints "done".
  const run = await runNode('late-reader.js', ['20'])
  t.is(run.stderr, '')
  t.deepEqual(run.stdout.trim().split('\n'), [...Array.from({ length: 20 }, (_, i) => `round ${i}: "early\\r\\n"`), 'done'])
  t.deepEqual([run.code, run.signal], [0, null])
})

test(`wait() with nobody reading warns once past ${UNREAD_OUTPUT_WARNING_BYTES / 1048576} MiB, and still loses nothing`, async (t) => {
  t.timeout(120000, 'hang guard: wait() never resolved')
  const size = UNREAD_OUTPUT_WARNING_BYTES + 8 * 1024 * 1024
  const warnings: Array<Error & { code?: string }> = []
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === 'NAPI_PTY_UNREAD_OUTPUT') warnings.push(warning)
  }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const child = await fork(['head', '-c', String(size), '/dev/zero'])
  t.is((await child.wait()).exitCode, 0)
  // process.emitWarning emits on the next tick.
  await new Promise((resolve) => setImmediate(resolve))
  t.is(warnings.length, 1)
  t.regex(warnings[0].message, new RegExp(`pid ${child.pid} is buffered: wait\\(\\) reads on while nobody reads`))
  let total = 0
  let nonZero = 0
  for await (const chunk of child) {
    total += chunk.length
    for (const byte of chunk) if (byte !== 0) nonZero++
  }
  t.is(total, size)
  t.is(nonZero, 0)
})

test('wait() with a reader: the output still arrives first and in full, with backpressure kept', async (t) => {
  const child = await fork(['seq', '1', '20000'])
  const got = collect(child)
  t.is((await child.wait()).exitCode, 0)
  t.true((await got).equals(seqOutput(20000)))
})

// --- 'close' and finished() --------------------------------------------------------------------

test("once the child has exited and the output ended, finished() resolves and 'close' comes without end()", async (t) => {
  const child = await fork(['echo', 'hello'])
  const events = recordEvents(child)
  const closed = new Promise((resolve) => child.once('close', resolve))
  const reader = new OutputReader(child)
  await finished(child)
  t.is(reader.text, 'hello\r\n')
  await closed
  t.deepEqual(events, ['end', 'exit', 'finish', 'close'])
  t.is(child.fd, -1)
  t.is(procState(child.pid), undefined)
})

test("the output read only after the exit: 'close' comes once it has been read to its end", async (t) => {
  const child = await fork(['echo', 'later'])
  const events = recordEvents(child)
  await child.wait()
  t.deepEqual(events, ['exit'])
  const reader = new OutputReader(child)
  await finished(child)
  t.is(reader.text, 'later\r\n')
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(events, ['exit', 'end', 'finish', 'close'])
})

test("end() by the application: the child gets end-of-file, and 'close' comes once, as before", async (t) => {
  const child = await fork(['cat'])
  const events = recordEvents(child)
  const reader = new OutputReader(child)
  child.write('abc\n')
  await reader.until('abc\r\nabc\r\n')
  child.end()
  await finished(child)
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(events.filter((e) => e === 'close' || e === 'finish' || e === 'end'), ['finish', 'end', 'close'])
  t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
})

test("close() by the application: the output ends, the child is hung up, and the stream closes", async (t) => {
  const child = await fork(['sleep', '30'])
  const events = recordEvents(child)
  const reader = new OutputReader(child)
  child.close()
  await finished(child)
  t.is(reader.text, '')
  t.deepEqual(await child.wait(), { exitCode: null, signal: 'SIGHUP', status: 1 })
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(events, ['end', 'exit', 'finish', 'close'])
})

test("await using still hangs up and waits, and the stream closes once its output is read", async (t) => {
  let child: PtyProcess | undefined
  {
    await using c = await fork(['sh', '-c', 'echo ready; exec sleep 30'])
    child = c
    await new OutputReader(c).until('ready\r\n')
  }
  t.deepEqual(child.exitStatus, { exitCode: null, signal: 'SIGHUP', status: 1 })
  await finished(child)
  t.true(child.destroyed)
})

// --- Writes that race the exit ------------------------------------------------------------------

/** Writes `chunk` on every turn of the event loop until `after` writes after the exit event;
 * with no 'error' listener, an 'error' would end this process. */
async function writeThroughExit(child: PtyProcess, chunk: string, after: number) {
  const results: Array<{ afterExit: boolean; returned: boolean; err: Promise<string> }> = []
  let exited = false
  child.once('exit', () => (exited = true))
  let late = 0
  while (late < after) {
    const afterExit = exited
    let settle!: (code: string) => void
    const err = new Promise<string>((resolve) => (settle = resolve))
    const returned = child.write(chunk, (e) => settle(e ? String((e as NodeJS.ErrnoException).code) : 'ok'))
    results.push({ afterExit, returned, err })
    if (afterExit) late++
    await new Promise((resolve) => setImmediate(resolve))
  }
  return Promise.all(results.map(async (r) => ({ ...r, err: await r.err })))
}

test('keystrokes that race the exit are dropped: no error event, write() false, the callback gets ERR_PTY_EXITED (100 times)', async (t) => {
  t.timeout(120000)
  for (let i = 0; i < 100; i++) {
    const child = await fork(['head', '-c', '6'])
    child.resume()
    const results = await writeThroughExit(child, 'k\n', 3)
    t.is(child.listenerCount('error'), 0)
    for (const r of results) t.true(r.err === 'ok' || r.err === 'ERR_PTY_EXITED', r.err)
    for (const r of results.filter((r) => r.afterExit)) t.deepEqual([r.returned, r.err], [false, 'ERR_PTY_EXITED'])
    t.deepEqual(await child.wait(), { exitCode: 0, signal: null, status: 0 })
  }
})

test('large writes the child never reads, cut off by its exit: dropped, no error event (30 times)', async (t) => {
  t.timeout(120000)
  const big = 'y'.repeat(64 * 1024)
  for (let i = 0; i < 30; i++) {
    // Reads one line, then exits with the rest of its input unread.
    const child = await fork(['sh', '-c', 'read x; exit 3'], { echo: false })
    child.resume()
    child.write('go\n')
    const results = await writeThroughExit(child, big, 2)
    t.true(results.every((r) => r.err === 'ok' || r.err === 'ERR_PTY_EXITED'), results.map((r) => r.err).join())
    t.true(results.some((r) => r.err === 'ERR_PTY_EXITED'))
    t.is((await child.wait()).exitCode, 3)
  }
})

test('a write after the exit and after the stream closed by itself: dropped with ERR_PTY_EXITED', async (t) => {
  const child = await fork(['true'])
  child.resume()
  await finished(child)
  t.true(child.destroyed)
  const err = await new Promise<NodeJS.ErrnoException | null | undefined>((resolve) => t.false(child.write('late', resolve)))
  t.is(err?.code, 'ERR_PTY_EXITED')
})

test("a write after the application's own end() is still Node's write-after-end error", async (t) => {
  const child = await fork(['cat'])
  child.resume()
  child.end()
  await child.wait()
  const errors: Error[] = []
  child.on('error', (e) => errors.push(e))
  const err = await new Promise<NodeJS.ErrnoException | null | undefined>((resolve) => child.write('late', resolve))
  t.is(err?.code, 'ERR_STREAM_WRITE_AFTER_END')
})
