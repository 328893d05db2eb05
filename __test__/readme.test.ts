// Every JavaScript and TypeScript example in README.md runs as written, as a user would run it:
// saved to a file in a new project whose node_modules/napi-pty is this checkout (so `require`
// and `import` resolve to the built package), started by a shell on a terminal of its own
// (napi-pty's fork), fed the input its marker gives, and checked for the output it should print.
//
// Each such block is preceded by a marker, an HTML comment GitHub does not render:
//
//   <!-- example: {"file": "app.mjs", "expect": ["hi"]} -->      run it (fields: Example below)
//   <!-- not-runnable: why -->                                   a fragment, listed by the test
//
// A js/mjs/cjs/ts/mts block with neither fails the test, so no example goes unchecked unnoticed.

import test from 'ava'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { fork } from '../index'
import { OutputReader } from './helpers'

const ROOT = path.join(__dirname, '..')
const README = path.join(ROOT, 'README.md')
/** Languages whose blocks are examples to run. */
const RUNNABLE = new Set(['js', 'mjs', 'cjs', 'javascript', 'ts', 'mts', 'typescript'])
/** A hang guard only: an example that has not ended by then is killed and reported as failed. */
const HANG_GUARD_MS = 90_000

/** What an `example:` marker says about the block after it. */
interface Example {
  /** The file the block is saved as; its extension says how Node (or tsc) treats it. */
  file: string
  /** The shell command that runs it, in the project's directory. Default `node <file>`. */
  command?: string
  /** Added to the environment. */
  env?: Record<string, string>
  /** Input typed on the terminal: each [output to wait for, text to send]. */
  steps?: Array<[string, string]>
  /** Each must be found in the output (\r\n read as \n, colours removed): a substring, or
   * /a regex/flags. */
  expect: string[]
  /** Files the example must have written, each with a substring it must contain. */
  files?: Record<string, string>
  /** The command's exit code. Default 0. */
  exitCode?: number
}

interface Block {
  /** 1-based line of the opening fence. */
  line: number
  lang: string
  code: string
  marker: { kind: 'example'; spec: Example } | { kind: 'not-runnable'; reason: string } | { kind: 'invalid'; problem: string } | undefined
}

function parseMarker(text: string): Block['marker'] {
  const match = /^<!--\s*(example|not-runnable):\s*([\s\S]*?)\s*-->$/.exec(text.trim())
  if (!match) return undefined
  if (match[1] === 'not-runnable') {
    return match[2] ? { kind: 'not-runnable', reason: match[2] } : { kind: 'invalid', problem: 'not-runnable needs a reason' }
  }
  let spec: Example
  try {
    spec = JSON.parse(match[2] as string) as Example
  } catch (err) {
    return { kind: 'invalid', problem: `the example marker is not JSON: ${(err as Error).message}` }
  }
  if (typeof spec.file !== 'string' || !/^[\w.-]+\.(m?js|cjs|m?ts)$/.test(spec.file)) {
    return { kind: 'invalid', problem: 'the example marker needs a "file" such as "app.mjs"' }
  }
  if (!Array.isArray(spec.expect) || spec.expect.length === 0) {
    return { kind: 'invalid', problem: 'the example marker must say what it prints ("expect")' }
  }
  return { kind: 'example', spec }
}

/** The fenced code blocks of a Markdown text, each with the marker on the line before it. */
function parseBlocks(text: string): Block[] {
  const lines = text.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i] as string)
    if (!open) continue
    const fence = open[1] as string
    let end = i + 1
    while (end < lines.length && !(lines[end] as string).startsWith(fence)) end++
    let before = i - 1
    while (before >= 0 && (lines[before] as string).trim() === '') before--
    blocks.push({
      line: i + 1,
      lang: (open[2] as string).toLowerCase(),
      code: lines.slice(i + 1, end).join('\n') + '\n',
      marker: before >= 0 ? parseMarker(lines[before] as string) : undefined,
    })
    i = end
  }
  return blocks
}

function matches(output: string, expected: string): boolean {
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(expected)
  return regex ? new RegExp(regex[1] as string, regex[2]).test(output) : output.includes(expected)
}

/** Compiles a TypeScript example as a user's project would: strict, for Node, against the
 * package's own types. Returns the JavaScript file to run. */
function compile(dir: string, file: string): string {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const args = [tsc, '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext']
  args.push('--lib', 'es2022,esnext.disposable', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), file)
  try {
    execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' })
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string }
    throw new Error(`tsc rejected ${file}:\n${stdout ?? ''}${stderr ?? ''}`)
  }
  return file.replace(/ts$/, 'js')
}

interface Outcome {
  output: string
  exitCode: number | null
  signal: string | null
  hung: boolean
}

/** Runs the example in a new project on a terminal of its own. */
async function run(block: Block, spec: Example, dir: string): Promise<Outcome> {
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'napi-pty'), 'dir')
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'readme-example', private: true })}\n`)
  fs.writeFileSync(path.join(dir, spec.file), block.code)
  const file = /ts$/.test(spec.file) ? compile(dir, spec.file) : spec.file
  // `node` is the Node running this test, found on PATH as a user's shell finds it.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, ...spec.env }
  const child = await fork(['sh', '-c', spec.command ?? `node ${file}`], { cwd: dir, env })
  const reader = new OutputReader(child)
  let hung = false
  const guard = setTimeout(() => {
    hung = true
    child.close()
    child.kill('SIGKILL')
  }, HANG_GUARD_MS)
  try {
    for (const [wait, send] of spec.steps ?? []) {
      await reader.until(wait)
      child.write(send)
    }
    const text = await reader.ended
    const status = await child.wait()
    // As a user reads it: lines end in \n, and colours (console.log colours numbers on a
    // terminal) are gone.
    const output = text.replace(/\r+\n/g, '\n').replace(/\x1b\[[0-9;]*m/g, '')
    return { output, exitCode: status.exitCode, signal: status.signal, hung }
  } finally {
    clearTimeout(guard)
  }
}

const blocks = parseBlocks(fs.readFileSync(README, 'utf8'))
const code = blocks.filter((b) => RUNNABLE.has(b.lang))
const examples = code.filter((b) => b.marker?.kind === 'example')
const fragments = code.filter((b) => b.marker?.kind === 'not-runnable')

test('README.md: every js/ts block is an example to run or is marked not runnable, with a reason', (t) => {
  const problems: string[] = []
  for (const block of code) {
    if (block.marker === undefined) {
      problems.push(`line ${block.line}: a ${block.lang} block with no marker (<!-- example: {...} --> or <!-- not-runnable: why -->)`)
    } else if (block.marker.kind === 'invalid') {
      problems.push(`line ${block.line}: ${block.marker.problem}`)
    }
  }
  for (const block of blocks) {
    if (!RUNNABLE.has(block.lang) && block.marker?.kind === 'example') {
      problems.push(`line ${block.line}: an example marker on a block of language "${block.lang}", which is not run`)
    }
  }
  t.deepEqual(problems, [])
  t.true(examples.length > 0, 'README.md has no example to run: has its format changed?')
  t.log(`${examples.length} examples run; ${fragments.length} marked not runnable${fragments.length ? ':' : ''}`)
  for (const block of fragments) {
    if (block.marker?.kind === 'not-runnable') t.log(`  line ${block.line} (${block.lang}): ${block.marker.reason}`)
  }
})

test('README.md and docs/: every relative link points to a file in the repository', (t) => {
  const pages = ['README.md', 'bench/README.md', 'stress/README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)]
  const broken: string[] = []
  let links = 0
  for (const page of pages.filter((p) => p.endsWith('.md'))) {
    for (const match of fs.readFileSync(path.join(ROOT, page), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = (match[1] as string).split('#')[0] as string
      if (target === '' || /^[a-z]+:/i.test(target)) continue
      links++
      if (!fs.existsSync(path.join(ROOT, path.dirname(page), target))) broken.push(`${page}: ${target}`)
    }
  }
  t.deepEqual(broken, [])
  t.true(links > 0)
})

for (const block of examples) {
  if (block.marker?.kind !== 'example') continue
  const spec = block.marker.spec
  test(`README.md example at line ${block.line} (${spec.file}${spec.command ? `: ${spec.command}` : ''}) runs as written`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-pty-readme-'))
    try {
      const result = await run(block, spec, dir)
      t.false(result.hung, `still running after ${HANG_GUARD_MS} ms; output so far:\n${result.output}`)
      t.is(result.exitCode, spec.exitCode ?? 0, `signal ${result.signal}; output:\n${result.output}`)
      for (const expected of spec.expect) {
        t.true(matches(result.output, expected), `expected ${JSON.stringify(expected)} in the output:\n${result.output}`)
      }
      for (const [name, expected] of Object.entries(spec.files ?? {})) {
        const written = fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), 'utf8') : undefined
        t.true(written?.includes(expected), `expected ${name} to contain ${JSON.stringify(expected)}, got ${JSON.stringify(written)}`)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
