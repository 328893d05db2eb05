// Errors as Node's own APIs shape them: system errors with code, errno, syscall and path;
// argument errors with Node's ERR_* codes.

import * as util from 'node:util'

import { SYS_ERROR_PREFIX } from './native'
import type { SystemError } from './types'

export function systemError(errno: number, syscall: string, path?: string): SystemError {
  const [code, description] = util.getSystemErrorMap().get(-errno) ?? [
    `E${errno}`,
    `unknown error ${errno}`,
  ]
  const where = path === undefined ? syscall : `${syscall} '${path}'`
  const err = new Error(`${code}: ${description}, ${where}`) as SystemError
  err.code = code
  err.errno = -errno
  err.syscall = syscall
  if (path !== undefined) err.path = path
  return err
}

/** Turns an error thrown by the binding into the error the user should see. */
export function fromNative(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  if (err.message.startsWith(SYS_ERROR_PREFIX)) {
    const info = JSON.parse(err.message.slice(SYS_ERROR_PREFIX.length)) as {
      errno: number
      syscall: string
      path?: string
    }
    return systemError(info.errno, info.syscall, info.path)
  }
  if ((err as { code?: string }).code === 'InvalidArg') {
    return codedError(TypeError, 'ERR_INVALID_ARG_VALUE', err.message)
  }
  return err
}

export function callNative<T>(f: () => T): T {
  try {
    return f()
  } catch (err) {
    throw fromNative(err)
  }
}

export function codedError<E extends Error>(
  Kind: new (message: string) => E,
  code: string,
  message: string,
): E & { code: string } {
  const err = new Kind(message) as E & { code: string }
  err.code = code
  return err
}

export function stateError(code: 'ERR_PTY_EXITED' | 'ERR_PTY_CLOSED', what: string): Error & { code: string } {
  const why = code === 'ERR_PTY_EXITED' ? 'the child has exited' : 'the pty has been closed'
  return codedError(Error, code, `${what}: ${why}`)
}

/** An `AbortError` as Node's own APIs reject with it (`code: 'ABORT_ERR'`, the reason as `cause`). */
export function abortError(signal: AbortSignal): Error {
  const err = codedError(Error, 'ABORT_ERR', 'The operation was aborted')
  err.name = 'AbortError'
  ;(err as Error & { cause?: unknown }).cause = signal.reason
  return err
}

/** Why a child could not be started: the step that failed (`execve`, `chdir`, `setuid`…) with
 * the path involved. */
export function startError(syscall: string, errno: number, child: { cwd?: string | null; program: string }): SystemError {
  const path = syscall === 'chdir' ? child.cwd ?? undefined : syscall === 'execve' ? child.program : undefined
  return systemError(errno, syscall, path)
}
