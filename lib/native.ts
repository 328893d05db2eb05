// Loading the native binary. napi-rs's generated loader (dist/binding.js) finds the `.node`
// file for this platform (beside it when built from source, else in the platform's npm
// package); this file names the override and turns a miss into an error a user can act on.

import type * as Binding from '../binding'

/** The platforms a binary is built for (package.json's napi.targets, as npm package names). */
const PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64']

/** This platform as napi-rs names it: `linux-x64-gnu`, `darwin-arm64`, ... */
function platform(): string {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
  return `linux-${process.arch}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`
}

/** The npm package that carries the binary for this platform. @internal (tests fake the platform) */
export function platformPackage(): string {
  return `napi-pty-${platform()}`
}


/**
 * The error for a binary that could not be loaded. napi-rs's own error lists every place its
 * loader tried, WebAssembly packages napi-pty does not publish among them, and blames an npm
 * bug; what a user needs is which package was missing and what to do, and as the cause the
 * error of loading that package itself.
 */
function loadError(): Error {
  const name = platform()
  const pkg = `napi-pty-${name}`
  let cause: unknown
  try {
    require(pkg)
  } catch (err) {
    cause = err
  }
  const missing = (cause as NodeJS.ErrnoException | undefined)?.code === 'MODULE_NOT_FOUND' && String((cause as Error).message).includes(`'${pkg}'`)
  let message: string
  if (!PLATFORMS.includes(name)) {
    message = `napi-pty has no native binary for ${name}: binaries are built for ${PLATFORMS.join(', ')}.`
  } else if (missing) {
    message =
      `napi-pty could not load its native binary: the package ${pkg} is not installed. ` +
      `npm installs it with napi-pty, as an optional dependency, unless optional dependencies were ` +
      `left out (--omit=optional) or node_modules came from another system or CPU: then run ` +
      `npm install again on this machine. Installing from a checkout, run \`npm run pack:local\` ` +
      `there and install both tarballs it writes (napi-pty and ${pkg}). Or set ` +
      `NAPI_PTY_NATIVE_PATH to a napi-pty .node file built for ${name}.`
  } else {
    message =
      `napi-pty could not load its native binary from ${pkg} (the cause says why). Reinstall ` +
      `napi-pty on this machine, or set NAPI_PTY_NATIVE_PATH to a napi-pty .node file built for ${name}.`
  }
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: 'ERR_NAPI_PTY_NO_BINARY' })
}

function load(): typeof Binding {
  const override = process.env.NAPI_PTY_NATIVE_PATH
  if (override) {
    try {
      return require(override) as typeof Binding
    } catch (cause) {
      throw Object.assign(new Error(`napi-pty could not load NAPI_PTY_NATIVE_PATH=${override} (the cause says why)`, { cause }), {
        code: 'ERR_NAPI_PTY_NO_BINARY',
      })
    }
  }
  try {
    // `#binding` is the package's own import map (package.json `imports`): dist/binding.js, from
    // the built files and from the sources the tests run alike, and a name bundlers resolve.
    return require('#binding') as typeof Binding
  } catch {
    throw loadError()
  }
}

const binding = load()

export type EventSink = Binding.EventSink
export type NativePty = Binding.NativePty
export type RawMode = Binding.RawMode
export type ForkSpec = Binding.ForkSpec
export type Kind = Binding.Kind
export const { EventSink, RawMode, fork, openpty, getWindowSize, setWindowSize, isTerminal, ProcessTable } = binding
/** Which read path the reactor took (`NAPI_PTY_READ`). @internal (tests and diagnostics) */
export const { readPath } = binding
// Defined once, in `src/protocol.rs`; `lib/events.ts` says what each is.
export const { Kind, LANE_INPUT, LANE_OUTPUT, EXIT_GRACE_MS, EXIT_GRACE_MAX_MS, SYS_ERROR_PREFIX, stepSyscalls } = binding
