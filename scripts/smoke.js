// The smoke suite run under every runtime by scripts/runtimes.js: open, fork, write/read,
// resize, exit status, exec error, spawn. Plain CommonJS so any runtime can load it. Prints one
// line per check ("ok NAME" or "FAIL NAME: why") and exits non-zero if any failed.
'use strict'

const assert = require('node:assert')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
// '../' and not '..': a file named like the checkout with .js beside it must not be taken.
const pty = require(process.env.NAPI_PTY_SMOKE_MODULE || '../')

async function readAll(child) {
  let text = ''
  await new Promise((resolve, reject) => {
    child.on('data', (chunk) => (text += chunk.toString()))
    child.on('end', resolve)
    child.on('error', reject)
  })
  return text
}

const checks = {
  async open() {
    const { master, slave, path: name } = await pty.openpty({ cols: 90, rows: 20 })
    assert.match(name, /^\/dev\/pts\/\d+$/)
    assert.deepStrictEqual(pty.getWindowSize(slave), { cols: 90, rows: 20 })
    fs.writeSync(slave, 'hi\n')
    const buf = Buffer.alloc(16)
    const n = fs.readSync(master, buf, 0, 16, null)
    assert.strictEqual(buf.subarray(0, n).toString(), 'hi\r\n')
    fs.closeSync(master)
    fs.closeSync(slave)
  },
  async 'fork, write and read'() {
    const child = await pty.fork(['sh', '-c', 'read x; echo "got $x"'])
    child.write('ping\n')
    assert.strictEqual(await readAll(child), 'ping\r\ngot ping\r\n')
    assert.strictEqual((await child.wait()).exitCode, 0)
  },
  async resize() {
    const child = await pty.fork(['sh', '-c', 'read x; stty size'], { cols: 80, rows: 24 })
    child.resize(120, 40)
    child.write('go\n')
    assert.strictEqual(await readAll(child), 'go\r\n40 120\r\n')
    await child.wait()
  },
  async 'exit status'() {
    const a = await pty.fork(['sh', '-c', 'exit 7'])
    a.on('data', () => {})
    assert.deepStrictEqual(await a.wait(), { exitCode: 7, signal: null, status: 7 << 8 })
    const b = await pty.fork(['sleep', '30'])
    b.on('data', () => {})
    b.kill('SIGKILL')
    assert.strictEqual((await b.wait()).signal, 'SIGKILL')
  },
  async 'exec error'() {
    await assert.rejects(pty.fork('napi-pty-missing-program'), { code: 'ENOENT', syscall: 'execvp' })
    await assert.rejects(pty.fork('sh', { cwd: '/nonexistent' }), { code: 'ENOENT', syscall: 'chdir' })
  },
  async spawn() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-smoke-'))
    const out = fs.openSync(path.join(dir, 'out'), 'w')
    const stdin = fs.openSync('/dev/null', 'r')
    const status = await pty.spawn(['sh', '-c', 'echo spawned; exit 3'], { stdin, stdout: out })
    fs.closeSync(out)
    fs.closeSync(stdin)
    assert.strictEqual(status.exitCode, 3)
    assert.strictEqual(fs.readFileSync(path.join(dir, 'out'), 'utf8'), 'spawned\r\n')
    fs.rmSync(dir, { recursive: true })
  },
}

async function main() {
  let failed = 0
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check()
      console.log(`ok ${name}`)
    } catch (err) {
      failed++
      console.log(`FAIL ${name}: ${String(err && err.message).split('\n')[0]}`)
    }
  }
  process.exit(failed === 0 ? 0 : 1)
}

main()
