// Key names to the bytes an xterm-compatible terminal sends for them, so tests do not write
// escape sequences by hand.

import { codedError } from './errors'
import { describe } from './validate'

/** Keys whose sequence does not depend on the cursor-key mode. */
const FIXED: Record<string, string> = {
  Enter: '\r',
  Return: '\r',
  Tab: '\t',
  Escape: '\x1b',
  Esc: '\x1b',
  Backspace: '\x7f',
  Insert: '\x1b[2~',
  Delete: '\x1b[3~',
  PageUp: '\x1b[5~',
  PageDown: '\x1b[6~',
  F1: '\x1bOP',
  F2: '\x1bOQ',
  F3: '\x1bOR',
  F4: '\x1bOS',
  F5: '\x1b[15~',
  F6: '\x1b[17~',
  F7: '\x1b[18~',
  F8: '\x1b[19~',
  F9: '\x1b[20~',
  F10: '\x1b[21~',
  F11: '\x1b[23~',
  F12: '\x1b[24~',
}

/** Cursor keys: the final byte, sent after `ESC [` in normal mode and `ESC O` in application
 * cursor mode (DECCKM). */
const CURSOR: Record<string, string> = { Up: 'A', Down: 'B', Right: 'C', Left: 'D', Home: 'H', End: 'F' }

/** xterm's modifier parameter: 1 + (Shift 1, Alt 2, Ctrl 4). */
const MODIFIER_BITS: Record<string, number> = { S: 1, M: 2, A: 2, C: 4 }

export interface KeyOptions {
  /** The terminal is in application cursor mode (DECCKM, as vim and less set it): cursor keys
   * send `ESC O A` rather than `ESC [ A`. A Screen knows; without one the default is `false`. */
  applicationCursor?: boolean
}

function badKey(key: unknown, why: string): TypeError {
  return codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `key ${typeof key === 'string' ? JSON.stringify(key) : describe(key)} ${why}`)
}

/**
 * The bytes for one key: a name (`Enter`, `Up`, `F5`, `PageDown`…), a single character
 * (`q`, `:`), or either with modifiers as `C-`, `M-`/`A-` (Alt) and `S-` prefixes (`C-c`,
 * `M-x`, `C-Up`, `S-Tab`).
 */
export function keySequence(key: unknown, options: KeyOptions = {}): string {
  if (typeof key !== 'string') {
    throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `key must be a string, got ${describe(key)}`)
  }
  const mods = new Set<string>()
  let name = key
  // `C-c`, `C-M-x`; a lone `-` or `C--` keeps its last `-` as the key.
  while (/^[CMAS]-./su.test(name)) {
    const mod = name[0] === 'A' ? 'M' : name[0]
    if (mods.has(mod)) throw badKey(key, 'repeats a modifier')
    mods.add(mod)
    name = name.slice(2)
  }
  if (name === 'Space') name = ' '
  const chars = [...name]
  const modifier = 1 + [...mods].reduce((n, m) => n + MODIFIER_BITS[m], 0)
  if (CURSOR[name]) {
    if (modifier > 1) return `\x1b[1;${modifier}${CURSOR[name]}`
    return `${options.applicationCursor ? '\x1bO' : '\x1b['}${CURSOR[name]}`
  }
  if (name === 'Tab' && mods.size === 1 && mods.has('S')) return '\x1b[Z'
  let bytes: string
  if (FIXED[name] !== undefined) {
    if (mods.has('C') || mods.has('S')) throw badKey(key, 'has a modifier this key cannot take here')
    bytes = FIXED[name]
  } else if (chars.length === 1) {
    bytes = name
    if (mods.has('S')) throw badKey(key, 'uses S- with a character: write the shifted character')
    if (mods.has('C')) bytes = control(key, name)
  } else {
    throw badKey(key, 'is not a key name (Enter, Tab, Escape, Backspace, Space, Up, Down, Left, Right, Home, End, PageUp, PageDown, Insert, Delete, F1-F12) nor a single character')
  }
  return mods.has('M') ? `\x1b${bytes}` : bytes
}

/** Ctrl with a character: `C-a`…`C-z` are 1…26, `C-@`, `C-[`, `C-\`, `C-]`, `C-^`, `C-_`,
 * `C-?` (DEL) and `C-Space` as a terminal sends them. */
function control(key: string, ch: string): string {
  if (ch === ' ') return '\0'
  if (ch === '?') return '\x7f'
  const code = ch.toUpperCase().charCodeAt(0)
  if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code - 0x40)
  throw badKey(key, 'has no control character')
}

/** The bytes for a list of keys, in order. */
export function keysSequence(keys: unknown[], options: KeyOptions = {}): string {
  return keys.map((key) => keySequence(key, options)).join('')
}
