// Loading the native binary. napi-rs's generated loader (`binding.js`) finds the `.node` file
// for this platform (next to it when built from source, else in the platform's npm package);
// this file names the override and turns a miss into an error a user can act on.

import type * as Binding from '../binding'

/** The npm package that carries the binary for this platform, as napi-rs names it. */
function platformPackage(): string {
  let abi = ''
  if (process.platform === 'linux') {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
    abi = header?.glibcVersionRuntime ? '-gnu' : '-musl'
  }
  return `napi-pty-${process.platform}-${process.arch}${abi}`
}

function load(): typeof Binding {
  const override = process.env.NAPI_PTY_NATIVE_PATH
  if (override) return require(override) as typeof Binding
  try {
    return require('../binding') as typeof Binding
  } catch (cause) {
    const pkg = platformPackage()
    throw new Error(
      `napi-pty could not load its native binary for ${process.platform}-${process.arch}. ` +
        `It looked for the optional dependency ${pkg}. Likely causes: dependencies were installed ` +
        `with --omit=optional (or --no-optional), or node_modules was copied from another ` +
        `operating system or CPU. Reinstall on this machine (npm install), or set ` +
        `NAPI_PTY_NATIVE_PATH to the path of a napi-pty .node file.`,
      { cause },
    )
  }
}

const binding = load()

export type EventSink = Binding.EventSink
export type NativePty = Binding.NativePty
export type RawMode = Binding.RawMode
export type ForkSpec = Binding.ForkSpec
export type Kind = Binding.Kind
export const { EventSink, RawMode, fork, openpty, getWindowSize, setWindowSize, isTerminal, ProcessTable } = binding
// Defined once, in `src/protocol.rs`; `lib/events.ts` says what each is.
export const { Kind, LANE_INPUT, LANE_OUTPUT, EXIT_GRACE_MS, EXIT_GRACE_MAX_MS, SYS_ERROR_PREFIX, stepSyscalls } = binding
