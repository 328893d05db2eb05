// A cell of a Screen, read from xterm.js's buffer into a plain object.

import type { IBufferCell } from '@xterm/headless'

/** A colour as the program set it: the terminal's default, one of the 256 palette entries
 * (0-15 being the 16 named colours), or a 24-bit RGB colour. */
export type Color = { mode: 'default' } | { mode: 'palette'; index: number } | { mode: 'rgb'; r: number; g: number; b: number }

export interface Cell {
  /** The character(s) shown in the cell ('' for an empty cell and for a wide character's second
   * cell). */
  char: string
  /** 1; 2 for a wide character (CJK, most emoji); 0 for the cell a wide character covers. */
  width: number
  fg: Color
  bg: Color
  bold: boolean
  dim: boolean
  italic: boolean
  underline: boolean
  inverse: boolean
  strikethrough: boolean
  invisible: boolean
}

const DEFAULT: Color = Object.freeze({ mode: 'default' })

function color(isDefault: boolean, isPalette: boolean, value: number): Color {
  if (isDefault) return DEFAULT
  if (isPalette) return { mode: 'palette', index: value }
  return { mode: 'rgb', r: (value >> 16) & 0xff, g: (value >> 8) & 0xff, b: value & 0xff }
}

export function readCell(cell: IBufferCell): Cell {
  return {
    char: cell.getChars(),
    width: cell.getWidth(),
    fg: color(cell.isFgDefault(), cell.isFgPalette(), cell.getFgColor()),
    bg: color(cell.isBgDefault(), cell.isBgPalette(), cell.getBgColor()),
    bold: cell.isBold() !== 0,
    dim: cell.isDim() !== 0,
    italic: cell.isItalic() !== 0,
    underline: cell.isUnderline() !== 0,
    inverse: cell.isInverse() !== 0,
    strikethrough: cell.isStrikethrough() !== 0,
    invisible: cell.isInvisible() !== 0,
  }
}

/** xterm's default 16 colours, then the 6×6×6 cube and the 24 greys of the 256-colour palette. */
export const PALETTE: readonly string[] = (() => {
  const named = [
    '#000000', '#cd0000', '#00cd00', '#cdcd00', '#0000ee', '#cd00cd', '#00cdcd', '#e5e5e5',
    '#7f7f7f', '#ff0000', '#00ff00', '#ffff00', '#5c5cff', '#ff00ff', '#00ffff', '#ffffff',
  ]
  const hex = (n: number) => n.toString(16).padStart(2, '0')
  const levels = [0, 95, 135, 175, 215, 255]
  for (let i = 0; i < 216; i++) {
    named.push(`#${hex(levels[Math.floor(i / 36)])}${hex(levels[Math.floor(i / 6) % 6])}${hex(levels[i % 6])}`)
  }
  for (let i = 0; i < 24; i++) named.push(`#${hex(8 + 10 * i).repeat(3)}`)
  return named
})()

/** A colour as CSS `#rrggbb`, given what "default" stands for. */
export function cssColor(c: Color, fallback: string): string {
  if (c.mode === 'default') return fallback
  if (c.mode === 'palette') return PALETTE[c.index] ?? fallback
  const hex = (n: number) => n.toString(16).padStart(2, '0')
  return `#${hex(c.r)}${hex(c.g)}${hex(c.b)}`
}
