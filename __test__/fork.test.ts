import test from 'ava'

import { fork } from '../index'

async function collect(child: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of child) chunks.push(chunk)
  return Buffer.concat(chunks).toString()
}

test('a child prints on its terminal and its exit code arrives', async (t) => {
  const child = await fork(['sh', '-c', 'echo hello; exit 3'])
  t.is(await collect(child), 'hello\r\n')
  t.deepEqual(await child.wait(), { exitCode: 3, signal: null, status: 3 << 8 })
})

test('a missing program rejects with ENOENT', async (t) => {
  const err = await t.throwsAsync(fork('napi-pty-no-such-program'))
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT')
})
