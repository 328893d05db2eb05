// napi-pty/node-pty bundled with esbuild, the native binary left external and shipped beside
// the bundle, as Electron apps ship node-pty's.

import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'

import test from 'ava'
import * as esbuild from 'esbuild'

import { FIXTURES, tempDir } from './helpers'

const root = path.join(__dirname, '..')

test('an app that requires napi-pty/node-pty, bundled with esbuild, runs and spawns', async (t) => {
  const { dir, remove } = tempDir()
  t.teardown(remove)
  // The app's project: its source, and napi-pty installed (a link to this package).
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'napi-pty'))
  fs.copyFileSync(path.join(FIXTURES, 'node-pty-bundled.js'), path.join(dir, 'app.js'))
  // Where `npm run build` leaves the binary: beside the loader it built.
  const built = path.dirname(require.resolve('napi-pty/node-pty'))
  const binaryDir = [root, path.dirname(built), built].find((d) => fs.readdirSync(d).some((name) => name.endsWith('.node')))!
  const binary = fs.readdirSync(binaryDir).find((name) => name.endsWith('.node'))
  t.truthy(binary, 'npm run build leaves a binary beside its loader')
  const out = path.join(dir, 'out')
  const result = await esbuild.build({
    entryPoints: [path.join(dir, 'app.js')],
    bundle: true,
    platform: 'node',
    outfile: path.join(out, 'main.js'),
    // The binary and the per-platform packages that carry it stay out of the bundle.
    external: ['*.node', 'napi-pty-*'],
    logLevel: 'silent',
  })
  t.deepEqual(result.errors, [])
  fs.copyFileSync(path.join(binaryDir, binary!), path.join(out, binary!))
  // Nothing of the project is left to fall back on: only the bundle and the binary.
  fs.rmSync(path.join(dir, 'node_modules'), { recursive: true })
  fs.rmSync(path.join(dir, 'app.js'))
  t.deepEqual(fs.readdirSync(out).sort(), [binary, 'main.js'].sort())
  const bundle = fs.readFileSync(path.join(out, 'main.js'), 'utf8')
  t.notRegex(bundle, /require\("napi-pty["/]/, 'napi-pty itself is inside the bundle')
  const env = { ...process.env }
  delete env.NAPI_PTY_NATIVE_PATH
  delete env.NODE_OPTIONS
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(out, 'main.js')], { cwd: out, env })
  const report = JSON.parse(stdout) as { output: string; exitCode: number; signal: number; pid: number }
  t.is(report.output, 'bundled 42 11 77\r\n')
  t.is(report.exitCode, 0)
  t.is(report.signal, 0)
  t.true(report.pid > 0)
})
