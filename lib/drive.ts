// What PtyProcess's expect(), screen() and press() do, kept out of the stream class.
// The Screen module (and xterm.js with it) is loaded on the first screen(): a program that
// never uses one does not pay for it.

import type { Duplex } from 'node:stream'

import { codedError } from './errors'
import { expectOutput, type ExpectOptions, type ExpectPattern, type ExpectResult, type ExpectTarget } from './expect'
import { keysSequence } from './keys'
import type { Screen, ScreenOptions, ScreenTarget } from './screen'

export type { ExpectOptions, ExpectPattern, ExpectResult }

const screens = new WeakMap<Duplex, Screen>()

/** The child's Screen, made (and fed from now on) at the first call. */
export function childScreen(child: ScreenTarget, options?: ScreenOptions): Screen {
  const existing = screens.get(child)
  if (existing && !existing.disposed) return existing
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Screen: ScreenClass } = require('./screen') as typeof import('./screen')
  const screen = ScreenClass._attach(child, options)
  screens.set(child, screen)
  return screen
}

export function expectChild(child: ExpectTarget, pattern: unknown, options?: ExpectOptions): Promise<ExpectResult> {
  return expectOutput(child, pattern, options)
}

/** Writes the keys' sequences, in the cursor-key mode the child's Screen shows (normal mode
 * without a Screen); resolves once written. */
export async function pressKeys(child: Duplex, keys: unknown[]): Promise<void> {
  if (keys.length === 0) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'press() needs at least one key')
  const screen = screens.get(child)
  if (screen && !screen.disposed) await screen.flush()
  const bytes = keysSequence(keys, { applicationCursor: screen && !screen.disposed ? screen.applicationCursor : false })
  await new Promise<void>((resolve, reject) => child.write(bytes, (err) => (err ? reject(err) : resolve())))
}
