// Type-level tests, compiled by `npm run typecheck` and never run. Each `@ts-expect-error` line
// must fail to compile: should the types regress (to `any`, say), the directive itself is the
// error and the typecheck fails.

import type { Duplex, Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'

import { fork, type ExitStatus, type PtyProcess } from '../index'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function assertType<T extends true>(): T | undefined {
  return undefined
}

export async function listeners(child: PtyProcess): Promise<void> {
  // The right signatures.
  child.on('exit', (exitCode: number | null, signal: NodeJS.Signals | null) => void [exitCode, signal])
  child.once('exit', (exitCode, signal) => {
    assertType<Equal<typeof exitCode, number | null>>()
    assertType<Equal<typeof signal, NodeJS.Signals | null>>()
  })
  child.on('data', (chunk) => assertType<Equal<typeof chunk, Buffer>>())
  child.addListener('data', (chunk: Buffer) => void chunk)
  child.prependListener('error', (err) => assertType<Equal<typeof err, Error>>())
  child.on('pipe', (src) => assertType<Equal<typeof src, Readable>>())
  child.off('end', () => undefined)
  child.removeListener('close', () => undefined)
  // A listener that takes an argument it does not need, as a Promise's resolve does.
  await new Promise<void>((resolve) => child.once('close', resolve))
  await new Promise((resolve) => child.once('finish', resolve))
  // After setEncoding() chunks are strings: a listener that takes both is fine.
  child.on('data', (chunk: Buffer | string) => void chunk)
  // Events of Node's own that PtyProcess does not name are untyped, as on any stream.
  child.on('custom', (a: string, b: number) => void [a, b])
  child.on(Symbol('s'), () => undefined)
  // Chaining keeps the type.
  assertType<Equal<ReturnType<typeof child.on<'exit'>>, PtyProcess>>()

  // Wrong signatures.
  // @ts-expect-error exitCode is number | null, not string
  child.on('exit', (exitCode: string) => void exitCode)
  // @ts-expect-error signal is NodeJS.Signals | null, not number
  child.once('exit', (_code: number | null, signal: number) => void signal)
  // @ts-expect-error exitCode may be null
  child.addListener('exit', (exitCode: number) => void exitCode)
  // @ts-expect-error a data chunk is a Buffer, not a string
  child.on('data', (chunk: string) => void chunk)
  // @ts-expect-error a data chunk is a Buffer, not a number
  child.prependOnceListener('data', (chunk: number) => void chunk)
  // @ts-expect-error 'end' has no argument to give
  child.on('end', (value: string) => void value)
  // @ts-expect-error 'error' gives an Error
  child.off('error', (err: string) => void err)

  // emit is typed too.
  child.emit('exit', 0, null)
  // @ts-expect-error exit's arguments are a code and a signal
  child.emit('exit', 'zero')
}

export async function iteration(): Promise<void> {
  const child = await fork(['true'])
  for await (const chunk of child) {
    assertType<Equal<typeof chunk, Buffer>>()
    // @ts-expect-error a chunk is a Buffer, not a string
    const text: string = chunk
    void text
  }
  const read = child.read()
  assertType<Equal<typeof read, Buffer | null>>()
  const status: ExitStatus = await child.wait()
  assertType<Equal<typeof status.signal, NodeJS.Signals | null>>()
}

export async function stillAStream(child: PtyProcess, sink: NodeJS.WritableStream): Promise<void> {
  // The typed events must not cost PtyProcess its place among Node's streams.
  const duplex: Duplex = child
  const readable: Readable = child
  await finished(duplex)
  await pipeline(readable, sink)
}
