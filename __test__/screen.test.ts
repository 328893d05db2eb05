import * as fs from 'node:fs'
import * as path from 'node:path'

import test from 'ava'
import { XMLParser, XMLValidator } from 'fast-xml-parser'

import { fork, keySequence } from '../index'
import { Screen } from '../lib/screen'
import { fdTable, newFds, threadCount } from './helpers'
import { run } from './script-helpers'

type Attrs = Record<string, string>
type Node = Attrs & { '#text'?: string | number }

/** The SVG's <text> and <rect> elements, after checking it is well-formed XML with an svg root. */
function parseSvg(svg: string): { texts: Node[]; rects: Node[]; root: Attrs } {
  const valid = XMLValidator.validate(svg)
  if (valid !== true) throw new Error(`invalid SVG: ${JSON.stringify(valid)}`)
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: false }).parse(svg)
  const root = doc.svg as Attrs & { rect: Node | Node[]; g: { text?: Node | Node[]; rect?: Node | Node[] } }
  const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])
  return { texts: list(root.g.text), rects: [...list(root.rect), ...list(root.g.rect)], root }
}

test('toSVG(): valid SVG with each character in its cell and its colours', async (t) => {
  const screen = new Screen({ cols: 20, rows: 3 })
  await screen.write('plain \x1b[1;38;5;196mRED\x1b[0m \x1b[48;2;0;0;255mblue bg\x1b[0m\r\n中x <&> \x1b[4mu\x1b[0m')
  const svg = screen.toSVG({ fontSize: 10 })
  const { texts, rects, root } = parseSvg(svg)
  t.is(root.xmlns, 'http://www.w3.org/2000/svg')
  const cw = 6 // 0.6 × the font size
  // Every character of every <text>, at the cell its x says.
  const placed = new Map<string, { char: string; fill: string; bold: boolean }>()
  for (const node of texts) {
    const xs = node.x.split(' ').map(Number)
    const chars = [...String(node['#text'])]
    t.is(xs.length, chars.length)
    const row = Math.floor(Number(node.y) / 13)
    chars.forEach((char, i) => placed.set(`${xs[i] / cw},${row}`, { char, fill: node.fill, bold: node['font-weight'] === 'bold' }))
  }
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 20; x++) {
      const cell = screen.cell(x, y)
      const shown = placed.get(`${x},${y}`)
      if (cell.char === '' || cell.char === ' ') t.is(shown, undefined, `cell ${x},${y} is blank`)
      else t.is(shown?.char, cell.char, `cell ${x},${y}`)
    }
  }
  t.deepEqual(placed.get('6,0'), { char: 'R', fill: '#ff0000', bold: true })
  t.deepEqual(placed.get('0,0'), { char: 'p', fill: '#e5e5e5', bold: false })
  t.is(placed.get('0,1')?.char, '中')
  t.is(placed.get('2,1')?.char, 'x')
  t.is(placed.get('4,1')?.char, '<')
  t.is(placed.get('5,1')?.char, '&')
  // The blue background spans "blue bg": columns 10 to 16.
  const blue = rects.find((r) => r.fill === '#0000ff')
  t.like(blue, { x: String(10 * cw), width: String(7 * cw) })
  t.truthy(rects.find((r) => r.class === 'underline' && r.x === String(8 * cw)))
  t.truthy(rects.find((r) => r.class === 'cursor'))
  screen.dispose()
})

test('Screen: text(), lines(), cursor, cells, buffer and resize on its own', async (t) => {
  const screen = new Screen({ cols: 10, rows: 3 })
  await screen.write('hello   \r\nab\x1b[7mc\x1b[0m')
  t.deepEqual(screen.lines(), ['hello', 'abc', ''])
  t.is(screen.text(), 'hello\nabc')
  t.deepEqual(screen.cursor, { x: 3, y: 1 })
  t.like(screen.cell(2, 1), { char: 'c', inverse: true, fg: { mode: 'default' }, bg: { mode: 'default' } })
  t.is(screen.buffer, 'normal')
  await screen.write('\x1b[?1049h')
  t.is(screen.buffer, 'alternate')
  t.is(screen.text(), '')
  screen.resize(5, 2)
  t.is(screen.cols, 5)
  t.throws(() => screen.cell(5, 0), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new Screen({ cols: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new Screen({ colour: 1 } as never), { code: 'ERR_INVALID_ARG_VALUE' })
  screen.dispose()
  t.throws(() => screen.write('x'), { code: 'ERR_SCREEN_DISPOSED' })
})

test('waitFor(): resolves on the write that shows it, times out showing the screen', async (t) => {
  const screen = new Screen({ cols: 20, rows: 2 })
  const waiting = screen.waitFor(/ready (\d+)/)
  await screen.write('not yet')
  await screen.write('\r\nready 42')
  t.is((await waiting as RegExpExecArray)[1], '42')
  const err = await t.throwsAsync(screen.waitFor('missing', { timeout: 50 }), { code: 'ERR_PTY_TIMEOUT' })
  t.regex(err!.message, /"missing"/)
  t.regex(err!.message, /\|ready 42/)
  t.is(await screen.waitFor((s: Screen) => s.cursor.x === 8 && 'at 8'), 'at 8')
  screen.dispose()
})

test('napi-pty/screen is the Screen', (t) => {
  // The package's own name resolves through its exports map, to the built module beside the
  // built entry point (wherever the build puts them).
  t.is(require.resolve('napi-pty/screen'), path.join(path.dirname(require.resolve('napi-pty')), 'lib', 'screen.js'))
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const built = (require('napi-pty/screen') as { Screen: typeof Screen }).Screen
  const screen = new built({ cols: 4, rows: 1 })
  t.is(screen.cols, 4)
  screen.dispose()
})

test('keys: names, modifiers and the cursor-key mode', (t) => {
  t.is(keySequence('Enter'), '\r')
  t.is(keySequence('C-c'), '\x03')
  t.is(keySequence('M-x'), '\x1bx')
  t.is(keySequence('Up'), '\x1b[A')
  t.is(keySequence('Up', { applicationCursor: true }), '\x1bOA')
  t.is(keySequence('C-Up'), '\x1b[1;5A')
  t.is(keySequence('S-Tab'), '\x1b[Z')
  t.is(keySequence('F5'), '\x1b[15~')
  t.is(keySequence('C-Space'), '\0')
  t.throws(() => keySequence('Hyper'), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => keySequence(1), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('press() follows the mode the Screen shows: ESC O A once the program sets it', async (t) => {
  const child = await fork(['sh', '-c', 'printf "\\033[?1h"; od -An -c'], { cols: 40, rows: 5 })
  const screen = child.screen()
  await screen.waitFor(() => screen.applicationCursor)
  await child.press('Up', 'Enter', 'C-d')
  await screen.waitFor(/033 +O +A/)
  t.pass()
  await child.wait()
  screen.dispose()
})

test('a child Screen follows resize and ends with the output', async (t) => {
  const child = await fork(['sh', '-c', 'read x; stty size'], { cols: 30, rows: 5 })
  const screen = child.screen()
  t.is(child.screen(), screen)
  child.resize(33, 7)
  t.is(screen.cols, 33)
  t.is(screen.rows, 7)
  child.write('\r')
  await screen.waitFor('7 33')
  await t.throwsAsync(screen.waitFor('never'), { code: 'ERR_PTY_EOF' })
  screen.dispose()
})

test('no leak: children with a Screen, driven and disposed, leave fds and threads as before', async (t) => {
  const run = async () => {
    const child = await fork(['sh', '-c', 'printf "\\033[1;31mready\\033[0m "; read x; echo got $x'], { cols: 40, rows: 5 })
    const screen = child.screen()
    await screen.waitFor('ready')
    await child.press('o', 'k', 'Enter')
    await screen.waitFor('got ok')
    screen.toSVG()
    await child.wait()
    screen.dispose()
  }
  await run()
  const fds = fdTable()
  const threads = threadCount()
  for (let i = 0; i < 40; i++) await Promise.all([run(), run()])
  t.deepEqual(newFds(fds), [])
  t.is(threadCount(), threads)
})

test('examples/test-less.js, the README example, passes under node:test', async (t) => {
  const r = await run(process.execPath, ['--test', path.join(__dirname, '..', 'examples', 'test-less.js')], { cwd: path.join(__dirname, '..') })
  t.is(r.code, 0, r.stdout.toString() + r.stderr.toString())
  t.regex(r.stdout.toString(), /# pass 1/)
})

test('the example SVG in docs/ is what this screen renders', async (t) => {
  const screen = new Screen({ cols: 48, rows: 6 })
  await screen.write(EXAMPLE)
  const file = path.join(__dirname, '..', 'docs', 'screen-example.svg')
  if (process.env.UPDATE_SCREEN_EXAMPLE) fs.writeFileSync(file, screen.toSVG())
  t.is(fs.readFileSync(file, 'utf8'), screen.toSVG())
  parseSvg(screen.toSVG())
  screen.dispose()
})

const EXAMPLE = [
  '\x1b[1;32m$\x1b[0m npm test\r\n',
  '\x1b[32m✔\x1b[0m vim shows the file \x1b[2m(212ms)\x1b[0m\r\n',
  '\x1b[31m✘\x1b[0m less finds \x1b[4mpattern\x1b[0m: \x1b[7m(END)\x1b[0m\r\n',
  '\x1b[38;5;214m256-colour\x1b[0m \x1b[38;2;120;160;255mtruecolor\x1b[0m \x1b[3mitalic\x1b[0m 中文 😀\r\n',
  '\x1b[48;5;236m\x1b[K status line\x1b[0m\r\n',
].join('')

test('the Screen answers a cursor-position query, as a terminal does', async (t) => {
  const ask = `
import os, sys, termios, tty
tty.setraw(0)
os.write(1, b'\\x1b[3;5H\\x1b[6n')
reply = b''
while not reply.endswith(b'R'):
    reply += os.read(0, 1)
termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0))
os.write(1, b'\\r\\nreply ' + reply[1:] + b'\\r\\n')
`
  const child = await fork(['python3', '-c', ask], { cols: 40, rows: 6 })
  const screen = child.screen()
  await screen.waitFor('reply [3;5R')
  t.is((await child.wait()).exitCode, 0)
  screen.dispose()
})

test('a program that queries the terminal and exits at once does not make the stream fail', async (t) => {
  for (let i = 0; i < 20; i++) {
    const child = await fork(['printf', '\\033[6n\\033[c'], { cols: 20, rows: 2 })
    const errors: Error[] = []
    child.on('error', (err) => errors.push(err))
    const screen = child.screen()
    await child.wait()
    await screen.flush()
    t.deepEqual(errors, [])
    screen.dispose()
  }
})
