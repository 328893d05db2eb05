// A Screen as an SVG picture: one rectangle per run of background colour, one <text> per run
// of characters of the same style with an x for every character (so each sits in its cell
// whatever the font's own advance), and rectangles for underline, strikethrough and the cursor.

import { cssColor, type Cell } from './screen-cell'

export interface SvgOptions {
  /** Font size in pixels. Default 14. */
  fontSize?: number
  /** CSS font-family. Default a list of common monospace fonts. */
  fontFamily?: string
  /** The default foreground and background. Default light grey on black. */
  foreground?: string
  background?: string
  /** Draw the cursor (an outlined cell). Default true. */
  cursor?: boolean
}

/** What the renderer needs of a screen. */
export interface SvgSource {
  cols: number
  rows: number
  cursor: { x: number; y: number }
  cursorVisible: boolean
  cell(x: number, y: number): Cell
}

const escapeXml = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'))

/** Rounds to two decimals, which is all a pixel position needs. */
const px = (n: number): string => String(Math.round(n * 100) / 100)

interface Style {
  fg: string
  bg: string
  bold: boolean
  italic: boolean
  dim: boolean
  underline: boolean
  strike: boolean
  invisible: boolean
}

function styleOf(cell: Cell, fgDefault: string, bgDefault: string): Style {
  let fg = cssColor(cell.fg, fgDefault)
  let bg = cssColor(cell.bg, bgDefault)
  if (cell.inverse) [fg, bg] = [bg, fg]
  return { fg, bg, bold: cell.bold, italic: cell.italic, dim: cell.dim, underline: cell.underline, strike: cell.strikethrough, invisible: cell.invisible }
}

const sameText = (a: Style, b: Style): boolean => a.fg === b.fg && a.bold === b.bold && a.italic === b.italic && a.dim === b.dim

export function renderSvg(screen: SvgSource, options: SvgOptions = {}): string {
  const fontSize = options.fontSize ?? 14
  const family = options.fontFamily ?? "'DejaVu Sans Mono', 'Menlo', 'Consolas', 'Liberation Mono', monospace"
  const fgDefault = options.foreground ?? '#e5e5e5'
  const bgDefault = options.background ?? '#000000'
  const cw = fontSize * 0.6
  const ch = Math.round(fontSize * 1.25)
  const width = screen.cols * cw
  const height = screen.rows * ch
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}">`,
    `<rect class="background" x="0" y="0" width="${px(width)}" height="${px(height)}" fill="${escapeXml(bgDefault)}"/>`,
    `<g font-family="${escapeXml(family)}" font-size="${fontSize}">`,
  )
  for (let y = 0; y < screen.rows; y++) {
    const top = y * ch
    const baseline = top + fontSize
    const cells: Array<{ x: number; cell: Cell; style: Style }> = []
    for (let x = 0; x < screen.cols; x++) {
      const cell = screen.cell(x, y)
      if (cell.width === 0) continue
      cells.push({ x, cell, style: styleOf(cell, fgDefault, bgDefault) })
    }
    // Backgrounds, underlines and strikethroughs: runs of cells sharing the colour.
    const runs = (take: (s: Style) => string | undefined, draw: (x0: number, x1: number, value: string) => void) => {
      let start = 0
      for (let i = 1; i <= cells.length; i++) {
        const value = take(cells[start].style)
        if (i < cells.length && take(cells[i].style) === value) continue
        const end = i < cells.length ? cells[i].x : screen.cols
        if (value !== undefined) draw(cells[start].x, end, value)
        start = i
      }
    }
    if (cells.length > 0) {
      runs((s) => (s.bg === bgDefault ? undefined : s.bg), (x0, x1, fill) => out.push(`<rect x="${px(x0 * cw)}" y="${top}" width="${px((x1 - x0) * cw)}" height="${ch}" fill="${escapeXml(fill)}"/>`))
      runs((s) => (s.underline ? s.fg : undefined), (x0, x1, fill) => out.push(`<rect class="underline" x="${px(x0 * cw)}" y="${px(baseline + 2)}" width="${px((x1 - x0) * cw)}" height="1" fill="${escapeXml(fill)}"/>`))
      runs((s) => (s.strike ? s.fg : undefined), (x0, x1, fill) => out.push(`<rect class="strikethrough" x="${px(x0 * cw)}" y="${px(baseline - fontSize * 0.3)}" width="${px((x1 - x0) * cw)}" height="1" fill="${escapeXml(fill)}"/>`))
    }
    // Text: runs of visible, non-blank characters of one style.
    let run: { style: Style; xs: number[]; text: string } | undefined
    const flush = () => {
      if (!run) return
      const s = run.style
      const attrs = [`x="${run.xs.map((x) => px(x * cw)).join(' ')}"`, `y="${px(baseline - fontSize * 0.2)}"`, `fill="${escapeXml(s.fg)}"`]
      if (s.bold) attrs.push('font-weight="bold"')
      if (s.italic) attrs.push('font-style="italic"')
      if (s.dim) attrs.push('opacity="0.5"')
      out.push(`<text ${attrs.join(' ')}>${escapeXml(run.text)}</text>`)
      run = undefined
    }
    for (const { x, cell, style } of cells) {
      const blank = cell.char === '' || cell.char === ' ' || style.invisible
      if (blank || (run && !sameText(run.style, style))) flush()
      if (blank) continue
      run ??= { style, xs: [], text: '' }
      // A cell may hold a character with combining marks: one x for its first code point
      // and none for the marks, so they stay on their base character.
      run.xs.push(x)
      run.text += cell.char
      for (let extra = [...cell.char].length - 1; extra > 0; extra--) run.xs.push(x)
    }
    flush()
  }
  if ((options.cursor ?? true) && screen.cursorVisible && screen.cursor.y < screen.rows) {
    const x = Math.min(screen.cursor.x, screen.cols - 1)
    out.push(`<rect class="cursor" x="${px(x * cw + 0.5)}" y="${screen.cursor.y * ch + 0.5}" width="${px(cw - 1)}" height="${ch - 1}" fill="none" stroke="${escapeXml(fgDefault)}"/>`)
  }
  out.push('</g>', '</svg>')
  return `${out.join('\n')}\n`
}
