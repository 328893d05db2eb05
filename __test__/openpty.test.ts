import * as fs from 'node:fs'

import test from 'ava'

import { getWindowSize, openpty, setWindowSize } from '../index'
import { isCloexec, LINUX, linuxOnly } from './helpers'

/** Reads from a blocking fd until exactly `length` bytes have arrived. */
function readExactly(fd: number, length: number): string {
  const buf = Buffer.alloc(length)
  let got = 0
  while (got < length) got += fs.readSync(fd, buf, got, length - got, null)
  return buf.toString()
}

function closeAll(...fds: number[]): void {
  for (const fd of fds) fs.closeSync(fd)
}

test('openpty: the slave writes, the master reads with \\n turned into \\r\\n', async (t) => {
  const { master, slave } = await openpty()
  try {
    fs.writeSync(slave, 'hello\nworld\n')
    t.is(readExactly(master, 14), 'hello\r\nworld\r\n')
  } finally {
    closeAll(master, slave)
  }
})

test('openpty: the master writes, the slave reads the line and the master gets the echo', async (t) => {
  const { master, slave } = await openpty()
  try {
    fs.writeSync(master, 'ping\n')
    t.is(readExactly(slave, 5), 'ping\n')
    t.is(readExactly(master, 6), 'ping\r\n')
  } finally {
    closeAll(master, slave)
  }
})

test('openpty: a master read after the slave is closed gives EIO (end of file)', async (t) => {
  const { master, slave } = await openpty()
  try {
    fs.closeSync(slave)
    const err = t.throws(() => fs.readSync(master, Buffer.alloc(16)))
    t.is((err as NodeJS.ErrnoException).code, 'EIO')
  } finally {
    fs.closeSync(master)
  }
})

test('openpty: output written before the slave closes is read before EIO', async (t) => {
  const { master, slave } = await openpty()
  try {
    fs.writeSync(slave, 'last words')
    fs.closeSync(slave)
    t.is(readExactly(master, 10), 'last words')
    const err = t.throws(() => fs.readSync(master, Buffer.alloc(16)))
    t.is((err as NodeJS.ErrnoException).code, 'EIO')
  } finally {
    fs.closeSync(master)
  }
})

linuxOnly(LINUX.proc, test)('openpty: both fds are close-on-exec and owned by the caller', async (t) => {
  const { master, slave } = await openpty()
  t.true(isCloexec(master))
  t.true(isCloexec(slave))
  t.is(fs.readlinkSync(`/proc/self/fd/${master}`), '/dev/ptmx')
  t.notThrows(() => closeAll(master, slave))
})

linuxOnly(LINUX.proc, test)('openpty: path names the slave', async (t) => {
  const { master, slave, path } = await openpty()
  try {
    t.regex(path, /^\/dev\/pts\/\d+$/)
    t.is(fs.readlinkSync(`/proc/self/fd/${slave}`), path)
    t.is(fs.fstatSync(slave).rdev, fs.statSync(path).rdev)
  } finally {
    closeAll(master, slave)
  }
})

test('openpty: the default window size is 80x24, seen on both ends', async (t) => {
  const { master, slave } = await openpty()
  try {
    t.deepEqual(getWindowSize(master), { cols: 80, rows: 24 })
    t.deepEqual(getWindowSize(slave), { cols: 80, rows: 24 })
  } finally {
    closeAll(master, slave)
  }
})

test('openpty: cols and rows set the window size', async (t) => {
  const { master, slave } = await openpty({ cols: 132, rows: 43 })
  try {
    t.deepEqual(getWindowSize(slave), { cols: 132, rows: 43 })
  } finally {
    closeAll(master, slave)
  }
})

test('openpty: the extremes 1 and 65535 are accepted', async (t) => {
  const { master, slave } = await openpty({ cols: 65535, rows: 1 })
  try {
    t.deepEqual(getWindowSize(slave), { cols: 65535, rows: 1 })
  } finally {
    closeAll(master, slave)
  }
})

test('setWindowSize on the master is seen on the slave', async (t) => {
  const { master, slave } = await openpty()
  try {
    setWindowSize(master, { cols: 100, rows: 30 })
    t.deepEqual(getWindowSize(slave), { cols: 100, rows: 30 })
    setWindowSize(slave, { cols: 7, rows: 3 })
    t.deepEqual(getWindowSize(master), { cols: 7, rows: 3 })
  } finally {
    closeAll(master, slave)
  }
})
