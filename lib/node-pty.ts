// napi-pty/node-pty: node-pty's API over napi-pty, for a one-line switch:
//
//   const pty = require('napi-pty/node-pty') // was require('node-pty')
//
// - lib/node-pty-terminal.ts: UnixTerminal, the IPty that spawn returns
// - lib/node-pty-open.ts: open(), a bare pair
// - lib/node-pty-process.ts: the foreground process's name
// - lib/node-pty-options.ts: option checks shared by spawn and open
// - lib/node-pty-types.ts: node-pty's public types, under its names

import { PtyPairTerminal } from './node-pty-open'
import { UnixTerminal } from './node-pty-terminal'
import type { IPty, IPtyForkOptions, IPtyOpenOptions, IWindowsPtyForkOptions } from './node-pty-types'

export type {
  IBasePtyForkOptions,
  IDisposable,
  IEvent,
  IExitEvent,
  IPixelSize,
  IPty,
  IPtyForkOptions,
  IPtyOpenOptions,
  IWindowsPtyForkOptions,
} from './node-pty-types'
export { PtyPairTerminal, UnixTerminal }

/** Starts `file` with `args` on a new pseudo-terminal. Returns at once, the child running: a
 * program that cannot be started (missing, or `cwd` does not exist) reports why as output and
 * exits with 1, as with node-pty. */
export function spawn(file?: string, args?: string[] | string, options?: IPtyForkOptions | IWindowsPtyForkOptions): IPty {
  return new UnixTerminal(file, args, options)
}

/** @deprecated node-pty's old name for {@link spawn}. */
export const fork = spawn

/** @deprecated node-pty's old name for {@link spawn}. */
export const createTerminal = spawn

/** Opens a pseudo-terminal pair with no process on it. */
export function open(options?: IPtyOpenOptions): PtyPairTerminal {
  return new PtyPairTerminal(options)
}
