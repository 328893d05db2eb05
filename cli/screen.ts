// The final screen of a recording, through a headless terminal emulator (@xterm/headless): as
// text, and as an SVG picture. `finalScreen` is the one place the CLI touches the emulator, so
// that it can be pointed at the library's own Screen when there is one.

import { Terminal, type IBufferCell } from '@xterm/headless'

/** One write to the terminal, or a resize. */
export type ScreenStep = { write: Uint8Array } | { resize: { cols: number; rows: number } }

/** A cell run with one style, for drawing. */
export interface Run {
  x: number
  y: number
  text: string
  /** Columns it covers (wide characters take two). */
  width: number
  fg?: string
  bg?: string
  bold: boolean
  italic: boolean
  underline: boolean
}

export interface FinalScreen {
  cols: number
  rows: number
  /** Each row's text, trailing blanks (written or not) removed. */
  lines: string[]
  runs: Run[]
}

/** The xterm 256-colour palette as #rrggbb. */
function paletteColor(index: number): string {
  const base = ['000000', 'cd0000', '00cd00', 'cdcd00', '0000ee', 'cd00cd', '00cdcd', 'e5e5e5', '7f7f7f', 'ff0000', '00ff00', 'ffff00', '5c5cff', 'ff00ff', '00ffff', 'ffffff']
  if (index < 16) return `#${base[index]}`
  if (index < 232) {
    const steps = [0, 95, 135, 175, 215, 255]
    const n = index - 16
    const hex = (v: number): string => (steps[v] as number).toString(16).padStart(2, '0')
    return `#${hex(Math.floor(n / 36))}${hex(Math.floor(n / 6) % 6)}${hex(n % 6)}`
  }
  const grey = (8 + (index - 232) * 10).toString(16).padStart(2, '0')
  return `#${grey}${grey}${grey}`
}

function color(cell: IBufferCell, which: 'fg' | 'bg'): string | undefined {
  const rgb = which === 'fg' ? cell.isFgRGB() : cell.isBgRGB()
  const palette = which === 'fg' ? cell.isFgPalette() : cell.isBgPalette()
  const value = which === 'fg' ? cell.getFgColor() : cell.getBgColor()
  if (rgb) return `#${value.toString(16).padStart(6, '0')}`
  if (palette) return paletteColor(value)
  return undefined
}

/** Feeds the steps to a terminal of `cols`×`rows` and reads the screen it ends with. */
export async function finalScreen(cols: number, rows: number, steps: Iterable<ScreenStep>): Promise<FinalScreen> {
  // Its log would go to our stdout: a damaged recording's bytes are ours to judge, not its.
  const term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true, logLevel: 'off' })
  try {
    for (const step of steps) {
      if ('resize' in step) term.resize(step.resize.cols, step.resize.rows)
      else await new Promise<void>((resolve) => term.write(step.write, resolve))
    }
    const buffer = term.buffer.active
    const lines: string[] = []
    const runs: Run[] = []
    const cell = buffer.getNullCell()
    for (let y = 0; y < term.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y)
      // Blanks written as spaces count as blank too, as tmux and asciinema see them.
      lines.push(line ? line.translateToString(true).replace(/ +$/, '') : '')
      if (!line) continue
      let run: Run | undefined
      for (let x = 0; x < term.cols; x++) {
        line.getCell(x, cell)
        if (cell.getWidth() === 0) continue // the right half of a wide character
        let fg = color(cell, 'fg')
        let bg = color(cell, 'bg')
        if (cell.isInverse()) [fg, bg] = [bg ?? '#000000', fg ?? '#e5e5e5']
        const style = { fg, bg, bold: cell.isBold() !== 0, italic: cell.isItalic() !== 0, underline: cell.isUnderline() !== 0 }
        const chars = cell.getChars() || ' '
        const same = run && run.fg === style.fg && run.bg === style.bg && run.bold === style.bold && run.italic === style.italic && run.underline === style.underline
        if (run && same) {
          run.text += chars
          run.width += cell.getWidth()
        } else {
          if (run) runs.push(run)
          run = { x, y, text: chars, width: cell.getWidth(), ...style }
        }
      }
      if (run) runs.push(run)
    }
    return { cols: term.cols, rows: term.rows, lines, runs }
  } finally {
    term.dispose()
  }
}

/** The screen's text: every row, trailing blanks removed, then the trailing empty rows. */
export function screenText(screen: FinalScreen): string {
  const lines = [...screen.lines]
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  return lines.map((line) => `${line}\n`).join('')
}

/** Characters XML 1.0 does not allow in a document, even escaped. */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

function escapeXml(text: string): string {
  return text.replace(NOT_XML, '\ufffd').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string)
}

/** The screen as an SVG picture: a monospace grid, colours, bold, italic and underline. */
export function screenSvg(screen: FinalScreen): string {
  const cw = 8.4
  const ch = 17
  const pad = 8
  const width = Math.ceil(screen.cols * cw + 2 * pad)
  const height = Math.ceil(screen.rows * ch + 2 * pad)
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#1e1e1e"/>`,
    `<g font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="14px" fill="#e5e5e5" xml:space="preserve">`,
  ]
  for (const run of screen.runs) {
    const x = (pad + run.x * cw).toFixed(1)
    const y = pad + run.y * ch
    if (run.bg) out.push(`<rect x="${x}" y="${y}" width="${(run.width * cw).toFixed(1)}" height="${ch}" fill="${run.bg}"/>`)
    const text = run.text.trimEnd()
    if (text.trim() === '') continue
    // Trailing blanks are one column each: the glyphs before them keep the grid's width.
    const columns = run.width - (run.text.length - text.length)
    const attrs = [`x="${x}"`, `y="${y + 13}"`, `textLength="${(columns * cw).toFixed(1)}"`, `lengthAdjust="spacingAndGlyphs"`]
    if (run.fg) attrs.push(`fill="${run.fg}"`)
    if (run.bold) attrs.push('font-weight="bold"')
    if (run.italic) attrs.push('font-style="italic"')
    if (run.underline) attrs.push('text-decoration="underline"')
    out.push(`<text ${attrs.join(' ')}>${escapeXml(text)}</text>`)
  }
  out.push('</g>', '</svg>')
  return `${out.join('\n')}\n`
}
