#!/usr/bin/env node
// Checks the source layout: no Rust file in src/ over 450 lines, no TypeScript module of the
// library over 300, and no import cycle among the Rust modules or among the TypeScript ones.
//
// Rust edges are `crate::…`, `super::…` and `self::…` paths and paths from a child module by its
// name (in `use` or inline), each resolved to the file of the deepest module it names; a path to
// an item of a module is an edge to that module's file. Unit tests (`#[cfg(test)] mod …` to the
// end of a file) are left out: they are not part of the layout a reader follows.
//
// TypeScript edges are relative `import`/`export … from` and `require` of another module of the
// tree, type-only imports included: they are erased at run time, but a cycle through them still
// means neither module can be read, changed or moved without the other.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')

const RUST_MAX = 450
const TS_MAX = 300
/** TypeScript trees checked, where they exist: the library and, with it, the entry point. */
const TS_DIRS = ['lib', 'cli']
const TS_ROOTS = ['index.ts']

/** Files over their limit that another change is splitting: each is reported but does not fail
 * the check, and an entry that no longer applies (the file gone or short enough) fails it, so
 * the list can only shrink. */
const BEING_SPLIT = {}

const problems = []
const notes = []

function walk(dir, ext) {
  const abs = path.join(root, dir)
  if (!fs.existsSync(abs)) return []
  const out = []
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...walk(rel, ext))
    else if (entry.name.endsWith(ext) && !entry.name.endsWith('.d.ts')) out.push(rel)
  }
  return out.sort()
}

function lineCount(file) {
  const text = fs.readFileSync(path.join(root, file), 'utf8')
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
}

function checkLengths(files, max) {
  for (const file of files) {
    const lines = lineCount(file)
    if (lines <= max) continue
    if (BEING_SPLIT[file]) notes.push(`${file}: ${lines} lines (over ${max}; ${BEING_SPLIT[file]})`)
    else problems.push(`${file}: ${lines} lines, over ${max}`)
  }
}

/** The first cycle found in a graph (Map of node to Set of nodes), as a path, or null. */
function findCycle(graph) {
  const state = new Map()
  const stack = []
  function visit(node) {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next]
      if (!state.has(next)) {
        const found = visit(next)
        if (found) return found
      }
    }
    stack.pop()
    state.set(node, 'done')
    return null
  }
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue
    const found = visit(node)
    if (found) return found
  }
  return null
}

// --- Rust ---------------------------------------------------------------------------------

/** `src/a/b.rs` and `src/a/b/mod.rs` are module ['a', 'b']; `src/lib.rs` is the crate root. */
function rustModule(file) {
  const parts = file.replace(/^src\//, '').replace(/\.rs$/, '').split('/')
  if (parts.at(-1) === 'mod' || (parts.length === 1 && parts[0] === 'lib')) parts.pop()
  return parts
}

function rustGraph(files) {
  const byModule = new Map(files.map((f) => [rustModule(f).join('::'), f]))
  /** The file of the deepest module that `segments` (from the crate root) names. */
  const resolve = (segments) => {
    for (let n = segments.length; n >= 0; n--) {
      const file = byModule.get(segments.slice(0, n).join('::'))
      if (file) return file
    }
    return undefined
  }
  const graph = new Map()
  for (const file of files) {
    const self = rustModule(file)
    const parent = self.slice(0, -1)
    let text = fs.readFileSync(path.join(root, file), 'utf8')
    const tests = text.search(/#\[cfg\(test\)\]\s*mod\s+\w+\s*\{/)
    if (tests >= 0) text = text.slice(0, tests)
    text = text.replace(/\/\/[^\n]*/g, '')
    const children = new Set([...text.matchAll(/\bmod\s+(\w+)\s*;/g)].map((m) => m[1]))
    const edges = new Set()
    const add = (segments) => {
      const target = resolve(segments)
      if (target && target !== file) edges.add(target)
    }
    // A path and, for a `use` group, each of its members: `crate::a::{b, c::d}`.
    const pathRe = /\b(crate|super|self)((?:::\w+)*)(::\{([^}]*)\})?/g
    for (const m of text.matchAll(pathRe)) {
      // `pub(crate)`, `pub(super)`, `self.x`: no path.
      if (!m[2] && !m[3]) continue
      const head = m[1] === 'crate' ? [] : m[1] === 'super' ? parent : self
      const base = [...head, ...m[2].split('::').filter(Boolean)]
      const members = m[4]?.split(',').map((s) => s.trim().split('::')[0]).filter((s) => s && s !== 'self')
      if (members?.length) for (const member of members) add([...base, member])
      else add(base)
    }
    // A path from a module declared here, in a `use` or inline: `child::item`.
    for (const m of text.matchAll(/(?<![:\w])(\w+)::/g)) {
      if (children.has(m[1])) add([...self, m[1]])
    }
    graph.set(file, edges)
  }
  return graph
}

// --- TypeScript -----------------------------------------------------------------------------

function tsGraph(files) {
  const known = new Set(files)
  const graph = new Map()
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8')
    const edges = new Set()
    const specRe = /(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g
    for (const m of text.matchAll(specRe)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1])).replace(/\.js$/, '')
      for (const candidate of [`${target}.ts`, `${target}/index.ts`]) {
        if (known.has(candidate)) edges.add(candidate)
      }
    }
    graph.set(file, edges)
  }
  return graph
}

// --- The check ------------------------------------------------------------------------------

const rustFiles = walk('src', '.rs')
const tsFiles = [...TS_DIRS.flatMap((dir) => walk(dir, '.ts')), ...TS_ROOTS.filter((f) => fs.existsSync(path.join(root, f)))]

checkLengths(rustFiles, RUST_MAX)
checkLengths(TS_DIRS.flatMap((dir) => walk(dir, '.ts')), TS_MAX)
for (const [file, why] of Object.entries(BEING_SPLIT)) {
  const max = file.endsWith('.rs') ? RUST_MAX : TS_MAX
  if (!fs.existsSync(path.join(root, file)) || lineCount(file) <= max) {
    problems.push(`${file} is on the list of files being split (${why}) but is not over ${max} lines: remove it from BEING_SPLIT`)
  }
}

const graphs = [
  ['Rust modules', rustGraph(rustFiles)],
  ['TypeScript modules', tsGraph(tsFiles)],
]
for (const [what, graph] of graphs) {
  const cycle = findCycle(graph)
  if (cycle) problems.push(`import cycle among the ${what}: ${cycle.join(' -> ')}`)
}

const longest = (files) =>
  files
    .map((f) => [f, lineCount(f)])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ')
const edgeCount = (graph) => [...graph.values()].reduce((n, s) => n + s.size, 0)
console.log(`layout: ${rustFiles.length} Rust files (limit ${RUST_MAX} lines; longest: ${longest(rustFiles)})`)
console.log(`layout: ${tsFiles.length} TypeScript files (limit ${TS_MAX} lines in ${TS_DIRS.join('/, ')}/; longest: ${longest(tsFiles)})`)
for (const [what, graph] of graphs) console.log(`layout: ${what}: ${edgeCount(graph)} import edges, ${findCycle(graph) ? 'a cycle' : 'no cycle'}`)
for (const note of notes) console.log(`layout: being split elsewhere: ${note}`)
if (problems.length) {
  for (const problem of problems) console.error(`layout: FAIL ${problem}`)
  process.exit(1)
}
console.log('layout: ok')
