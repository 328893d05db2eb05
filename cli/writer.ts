// Writing a recording's files: in order, asynchronously, with back-pressure.

import * as fs from 'node:fs'

/**
 * An append-only file written asynchronously and strictly in order. A slow disk slows the
 * recording (the hook waits once too much is queued) rather than reordering or dropping it.
 */
export class OrderedWriter {
  static readonly HIGH_WATER = 1 << 20
  #fd: number
  #queued = 0
  #tail: Promise<void> = Promise.resolve()
  #error: Error | undefined
  #drained: Array<() => void> = []

  constructor(fd: number) {
    this.#fd = fd
  }

  /**
   * Writes `data` to the file before returning when nothing is queued before it (else queues
   * it): what is passed on after this call is in the file, even if this process is killed.
   */
  writeNow(data: string): void {
    if (this.#error) throw this.#error
    if (this.#queued > 0) {
      void this.write(data, false)?.catch(() => undefined)
      return
    }
    const bytes = Buffer.from(data)
    try {
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(this.#fd, bytes, off, bytes.length - off)
    } catch (err) {
      this.#error = err as Error
      throw err
    }
  }

  /** Queues `data`; the returned Promise settles when queueing more is reasonable. */
  write(data: Uint8Array | string, writeThrough: boolean): Promise<void> | undefined {
    if (this.#error) throw this.#error
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    if (bytes.length === 0) return undefined
    this.#queued += bytes.length
    const done = (this.#tail = this.#tail.then(() => this.#writeAll(bytes)))
    if (writeThrough) return done
    if (this.#queued <= OrderedWriter.HIGH_WATER) return undefined
    return new Promise((resolve) => this.#drained.push(resolve))
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#error) return
    try {
      let off = 0
      while (off < bytes.length) {
        off += await new Promise<number>((resolve, reject) =>
          fs.write(this.#fd, bytes, off, bytes.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
        )
      }
    } catch (err) {
      this.#error = err as Error
    }
    this.#queued -= bytes.length
    if (this.#queued <= OrderedWriter.HIGH_WATER || this.#error) {
      for (const resolve of this.#drained.splice(0)) resolve()
    }
    if (this.#error) throw this.#error
  }

  /** Waits for everything queued, then closes the file; rejects with the first write error. */
  async close(): Promise<void> {
    try {
      await this.#tail.catch(() => undefined)
      if (this.#error) throw this.#error
      await new Promise<void>((resolve, reject) => fs.fsync(this.#fd, (err) => (err ? reject(err) : resolve())))
    } finally {
      await new Promise<void>((resolve) => fs.close(this.#fd, () => resolve()))
    }
  }
}

/** Opens a log file for writing (truncated, or appended to). */
export function openLog(path: string, append: boolean): OrderedWriter {
  return new OrderedWriter(fs.openSync(path, append ? 'a' : 'w', 0o644))
}
