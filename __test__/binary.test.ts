import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'

const binary = path.join(__dirname, '..', 'dist', 'napi-pty.linux-x64-gnu.node')
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64' ? test : test.skip

function glibcVersions(file: string): string[] {
  const symbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8' })
  return [...new Set([...symbols.matchAll(/GLIBC_(\d+\.\d+(?:\.\d+)?)/g)].map((m) => m[1] as string))]
}

function newer(a: string, b: string): boolean {
  const [pa, pb] = [a.split('.').map(Number), b.split('.').map(Number)]
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0)
  }
  return false
}

onLinuxX64('the linux-x64-gnu binary needs no glibc symbol newer than 2.28', (t) => {
  const versions = glibcVersions(binary)
  t.true(versions.length > 0)
  t.deepEqual(versions.filter((v) => newer(v, '2.28')), [])
  t.log(`glibc versions needed: ${versions.sort((a, b) => (newer(a, b) ? 1 : -1)).join(', ')}`)
  t.log(`binary size: ${fs.statSync(binary).size} bytes`)
})

onLinuxX64('the binary is stripped', (t) => {
  const out = execFileSync('file', [binary], { encoding: 'utf8' })
  t.regex(out, /, stripped/)
})
