// The command's help texts, and the parsing of its option values.

export const USAGE = `Usage:
  napi-pty script [options] [file]   record a terminal session (default file: typescript)
  napi-pty replay [options] FILE     play a recording back
  napi-pty convert [options] IN OUT  convert a recording (typescript, asciicast, .txt, .svg)
  napi-pty --version                 print the version

napi-pty COMMAND --help shows a command's options.
`

export const SCRIPT_USAGE = `Usage: napi-pty script [options] [file]

Runs a shell (or -c CMD) on a new terminal and records everything it prints in file
(default: typescript, or typescript.cast with --format asciicast).

Options:
  -a, --append             append to the logs
  -c, --command CMD        run CMD through the shell's -c instead of an interactive shell
  -e, --return             exit with the child's exit code (always the case; accepted for util-linux's script)
  -p, --node               use Node's REPL as the shell
  -q, --quiet              print no start/done lines
  -O, --log-out FILE       log the output to FILE (the same as naming file)
  -I, --log-in FILE        log the input to FILE (only the input, unless -O or file is given too)
  -B, --log-io FILE        log input and output to FILE
  -T, --log-timing FILE    write a timing file for replay (and util-linux's scriptreplay)
  -m, --logging-format FMT classic or advanced (multi-stream) timing; default: advanced when
                           both input and output are logged
  -E, --echo WHEN          the terminal's echo: auto (off when input is piped), always, never
  -o, --output-limit SIZE  stop the command once the logs hold more than SIZE bytes
                           (suffixes K, KiB, KB, M, MiB, MB, G…)
  -i, --idle-time-limit S  shorten every pause in the recording to at most S seconds
      --format FORMAT      typescript (default), asciicast (v3, as asciinema 3 writes) or
                           asciicast-v2
      --capture-input      record the input too (asciicast "i" events)
  -f, --flush              write each chunk through to the file before the next
  -h, --help               show this help
`

export const REPLAY_USAGE = `Usage: napi-pty replay [options] FILE

Plays back a typescript (with the timing file that -T wrote, classic or multi-stream, at the
recorded pace; without one the whole session at once) or an asciicast v2 or v3 recording.

Options:
  -t, --timing FILE        the typescript's timing file (also -T, --log-timing)
  -s, --speed X            play X times as fast (default 1)
  -m, --maxdelay S         wait at most S seconds between two writes (after --speed)
      --stream STREAM      out (default), in or io: which stream of a multi-stream log to play
      --summary            print what the recording holds instead of playing it
  -h, --help               show this help
`

export const CONVERT_USAGE = `Usage: napi-pty convert [options] IN OUT

Converts a recording. IN is a typescript (with -t its timing file) or an asciicast v2 or v3
file. OUT's format comes from --to, or from its name: .cast (asciicast v3), .txt (the final
screen as text), .svg (the final screen as a picture), anything else a typescript (with -T
FILE its timing file).

Options:
  -t, --timing FILE        IN's timing file
  -T, --log-timing FILE    write OUT's timing file (typescript output)
      --to FORMAT          typescript, asciicast, asciicast-v2, txt or svg
  -h, --help               show this help
`

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5, E: 1024 ** 6 }

/** A size as util-linux reads one: a number and an optional K/KiB (1024) or KB (1000) suffix. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)(?:([KMGTPE])(iB|B)?)?$/i.exec(text.trim())
  if (!match) return undefined
  const unit = (match[2] ?? '').toUpperCase()
  const base = SIZE_UNITS[unit] as number
  const factor = match[3]?.toUpperCase() === 'B' ? 1000 ** Math.round(Math.log(base) / Math.log(1024)) : base
  const size = Number(match[1]) * factor
  return Number.isSafeInteger(size) ? size : undefined
}

/** A number of seconds: finite and not negative. */
export function parseSeconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d*\.?\d+(e[+-]?\d+)?\s*$/i.test(text)) return undefined
  const value = Number(text)
  return Number.isFinite(value) && value >= 0 ? value : undefined
}
