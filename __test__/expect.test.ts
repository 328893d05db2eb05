import * as path from 'node:path'

import test from 'ava'

import { EOF, fork, type ExpectPattern } from '../index'
import { FIXTURES, PYTHON } from './helpers'
import { run } from './script-helpers'

type Pat = { s: string } | { re: string } | { eof: true }
type Step = { send: string } | { expect: Pat[]; timeout?: number }
type Result = { index: number; before: string; match: string | string[] } | { timeout: true; buffer: string }

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TERM: 'xterm-256color' }

/** What pexpect gives for the session. */
async function reference(steps: Step[], argv: string[]): Promise<Result[]> {
  // The Python on PATH, which has pexpect (PYTHON is the fast-starting system one).
  const r = await run('python3', [path.join(FIXTURES, 'pexpect-driver.py'), JSON.stringify(steps), ...argv], { cwd: process.cwd(), env: { ...process.env, ...env } })
  if (r.code !== 0) throw new Error(`pexpect driver: ${r.stderr.toString()}`)
  return JSON.parse(r.stdout.toString()) as Result[]
}

/** What our expect() gives for the same session. */
async function ours(steps: Step[], argv: string[]): Promise<Result[]> {
  const child = await fork(argv, { env, cols: 80, rows: 24 })
  const results: Result[] = []
  try {
    for (const step of steps) {
      if ('send' in step) {
        child.write(step.send)
        continue
      }
      const patterns: ExpectPattern[] = step.expect.map((p) => ('eof' in p ? EOF : 're' in p ? new RegExp(p.re) : p.s))
      try {
        const r = await child.expect(patterns, { timeout: (step.timeout ?? 10) * 1000 })
        const match = r.match === EOF ? 'EOF' : typeof r.match === 'string' ? r.match : [...r.match].map((g) => g ?? null) as string[]
        results.push({ index: r.index, before: r.before, match })
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_PTY_TIMEOUT') throw err
        results.push({ timeout: true, buffer: (err as { buffer: string }).buffer })
      }
    }
  } finally {
    child.kill('SIGKILL')
    await child.wait()
  }
  return results
}

async function same(t: import('ava').ExecutionContext, steps: Step[], argv: string[]) {
  const [theirs, mine] = await Promise.all([reference(steps, argv), ours(steps, argv)])
  t.true(theirs.length > 0)
  t.deepEqual(mine, theirs)
}

const SH = (script: string) => ['sh', '-c', script]

test('a login-like dialogue gives the before/match sequence pexpect gives', async (t) => {
  const login = SH(`printf 'login: '; read u; stty -echo; printf 'Password: '; read p; stty echo
printf '\\nLast login: never\\nWelcome %s\\n$ ' "$u"; read c; echo "ran $c"; echo bye; exit 0`)
  await same(t, [
    { expect: [{ s: 'login: ' }] },
    { send: 'alice\r' },
    { expect: [{ s: 'assword: ' }] },
    { send: 'secret\r' },
    { expect: [{ re: 'Welcome (\\w+)' }] },
    { expect: [{ s: 'denied' }, { s: '$ ' }] },
    { send: 'ls -l\r' },
    { expect: [{ s: 'ran ls -l' }] },
    { expect: [{ eof: true }] },
  ], login)
})

test('a prompt split over reads, and a character split across them, match whole', async (t) => {
  const split = [PYTHON, '-c', `
import os, sys, time
w = lambda b: (os.write(1, b), time.sleep(0.15))
w(b'Pro'); w(b'mpt'); w(b'> ')
sys.stdin.readline()
w(b'wide \\xe4'); w(b'\\xb8'); w(b'\\xad> ')
sys.stdin.readline()
`]
  await same(t, [
    { expect: [{ s: 'Prompt> ' }] },
    { send: 'go\r' },
    { expect: [{ s: '中> ' }] },
    { send: 'end\r' },
    { expect: [{ eof: true }] },
  ], split)
})

test('a RegExp with groups: the groups and the text before, as pexpect', async (t) => {
  const argv = SH(`printf 'noise\\nid=42 name=bob\\nid=7 name=eve\\n'; read x; exit 0`)
  await same(t, [
    { expect: [{ re: 'id=(\\d+) name=(\\w+)' }] },
    { expect: [{ re: 'nothing-(here)' }, { re: 'id=(\\d+) name=(\\w+)(x)?' }] },
    { send: 'done\r' },
    { expect: [{ eof: true }] },
  ], argv)
})

test('a timeout keeps the buffer, as pexpect, and the next expect goes on from it', async (t) => {
  const argv = SH(`printf 'partial output'; read x; printf 'then more\\n'; exit 0`)
  await same(t, [
    { expect: [{ s: 'never shown' }], timeout: 0.5 },
    { expect: [{ s: 'output' }] },
    { send: 'x\r' },
    { expect: [{ s: 'more' }] },
    { expect: [{ eof: true }] },
  ], argv)
})

test('expect: a timeout says what was awaited and shows the unmatched output', async (t) => {
  const child = await fork(SH(`printf 'Hello there\\n'; read x`), { env })
  const err = await t.throwsAsync(child.expect(/ready>/, { timeout: 200 }), { code: 'ERR_PTY_TIMEOUT' })
  t.regex(err!.message, /\/ready>\//)
  t.regex(err!.message, /Hello there/)
  child.kill('SIGKILL')
  await child.wait()
})

test('expect: the output ending before the pattern rejects with ERR_PTY_EOF; EOF then matches', async (t) => {
  const child = await fork(SH(`printf 'last words'`), { env })
  const err = await t.throwsAsync(child.expect('never'), { code: 'ERR_PTY_EOF' })
  t.regex(err!.message, /last words/)
  const r = await child.expect(EOF)
  t.is(r.match, EOF)
  t.is(r.before, 'last words')
  t.is((await child.wait()).exitCode, 0)
})

test('expect: bad arguments and a second concurrent call are typed errors', async (t) => {
  const child = await fork(SH('read x'), { env })
  await t.throwsAsync(child.expect(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(child.expect([]), { code: 'ERR_INVALID_ARG_VALUE' })
  await t.throwsAsync(child.expect('x', { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(child.expect('x', { timeout: '1' as unknown as number }), { code: 'ERR_INVALID_ARG_TYPE' })
  const first = child.expect('done')
  await t.throwsAsync(child.expect('other'), { code: 'ERR_INVALID_STATE' })
  child.write('done\r')
  t.is((await first).match, 'done')
  child.kill('SIGKILL')
  await child.wait()
})

test('expect and a reader of the stream both see every chunk', async (t) => {
  const child = await fork(SH(`printf 'one\\ntwo\\nthree\\n'`), { env })
  let seen = ''
  child.on('data', (chunk: Buffer) => (seen += chunk.toString()))
  t.is((await child.expect('two')).before, 'one\r\n')
  await child.expect(EOF)
  t.is(seen, 'one\r\ntwo\r\nthree\r\n')
})
