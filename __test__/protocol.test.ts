// The facts both sides of napi must agree on are defined once, in src/protocol.rs (and the step
// names in src/lib.rs): these tests fail when what the facade uses and what the binding has
// drift apart.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

import * as index from '../index'
import * as events from '../lib/events'
import * as native from '../lib/native'
import type { PtyPair, WindowSize } from '../lib/types'

const root = path.join(__dirname, '..')
const source = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8')

/** The names of a numeric enum's members (TypeScript enums also map numbers back to names). */
function memberNames(e: object): string[] {
  return Object.keys(e).filter((k) => Number.isNaN(Number(k)))
}

test('protocol: every event kind the binding sends is handled by PtyProcess or its relay link, and no other', (t) => {
  const nativeKinds = memberNames(native.Kind).sort()
  t.true(nativeKinds.length > 0)
  // PtyProcess switches on its own kinds; its link to spawn's copy loop compares the relay's.
  const sources = source('lib/pty-process.ts') + source('lib/relay-link.ts')
  const handled = [...new Set([...sources.matchAll(/(?:case |=== )Kind\.(\w+)/g)].map((m) => m[1]))].sort()
  t.deepEqual(handled, nativeKinds)
  // The numbers are distinct, and the facade's Kind is the binding's own object.
  const numbers = nativeKinds.map((k) => (native.Kind as unknown as Record<string, number>)[k])
  t.is(new Set(numbers).size, numbers.length)
  t.is(events.Kind, native.Kind)
})

test('protocol: the binding declares in binding.d.ts every constant the facade takes from it', (t) => {
  const dts = source('dist/binding.d.ts')
  t.regex(dts, /export declare enum Kind \{/)
  for (const name of ['LANE_INPUT', 'LANE_OUTPUT', 'EXIT_GRACE_MS', 'EXIT_GRACE_MAX_MS', 'SYS_ERROR_PREFIX']) {
    t.regex(dts, new RegExp(`export declare const ${name}: `), name)
    t.not((native as Record<string, unknown>)[name], undefined, name)
  }
  t.regex(dts, /export declare function stepSyscalls\(\): Array<string>/)
  for (const kind of memberNames(native.Kind)) t.regex(dts, new RegExp(`\\b${kind} = \\d+`), kind)
})

test('protocol: the set-up steps name their syscalls, numbered from 1, as PtyProcess expects', (t) => {
  const steps = events.STEP_SYSCALLS
  t.is(steps[0], '')
  t.true(steps.length > 1)
  t.true(steps.slice(1).every((s) => /^[a-z0-9_]+$/.test(s)))
  // PtyProcess attaches a path to these two by name.
  t.true(steps.includes('chdir'))
  t.true(steps.includes('execve'))
  t.deepEqual([...steps], native.stepSyscalls())
})

test('protocol: the public grace constants keep their names and values, and are the native ones', (t) => {
  t.is(index.EXIT_GRACE_MS, 100)
  t.is(index.EXIT_GRACE_MAX_MS, 1000)
  t.is(index.DISPOSE_GRACE_MS, 1000)
  t.is(index.EXIT_GRACE_MS, native.EXIT_GRACE_MS)
  t.is(index.EXIT_GRACE_MAX_MS, native.EXIT_GRACE_MAX_MS)
})

test('protocol: lanes are two distinct numbers, and spawn takes its lane from the binding', (t) => {
  t.not(native.LANE_INPUT, native.LANE_OUTPUT)
  t.is(events.LANE_INPUT, native.LANE_INPUT)
  t.is(events.LANE_OUTPUT, native.LANE_OUTPUT)
  t.notRegex(source('lib/spawn.ts'), /LANE_\w+\s*=/)
})

test('protocol: a native system error carries the prefix the facade looks for', (t) => {
  const fd = fs.openSync('/dev/null', 'r')
  try {
    const err = t.throws(() => native.getWindowSize(fd))
    t.true(err.message.startsWith(native.SYS_ERROR_PREFIX))
    t.like(JSON.parse(err.message.slice(native.SYS_ERROR_PREFIX.length)), { syscall: 'ioctl' })
    // And the facade turns it into a Node-style error.
    t.throws(() => index.getWindowSize(fd), { code: 'ENOTTY' })
  } finally {
    fs.closeSync(fd)
  }
})

/** `true` only when A and B are the same type, each assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

test('protocol: the public PtyPair and WindowSize are what the binding returns (checked by tsc)', (t) => {
  // These two lines stop compiling (npm run typecheck) when the types drift apart.
  const windowSize: Same<WindowSize, ReturnType<typeof native.getWindowSize>> = true
  const ptyPair: Same<PtyPair, ReturnType<typeof native.openpty>> = true
  t.true(windowSize && ptyPair)
})
