// The name of a terminal's foreground process, as node-pty's `IPty.process` gives it: the
// first argument of the foreground process group's leader (`vim`, `/bin/bash`, `-bash`).

import * as fs from 'node:fs'

function readProc(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'latin1')
  } catch {
    return undefined
  }
}

/** The foreground process group of the terminal whose session `sessionLeader` leads, from the
 * `tpgid` field of its `/proc/<pid>/stat`; `undefined` once it is gone. */
function foregroundGroup(sessionLeader: number): number | undefined {
  const stat = readProc(`/proc/${sessionLeader}/stat`)
  if (stat === undefined) return undefined
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses:
  // the fields that follow start after the last ')'. They are state, ppid, pgrp, session,
  // tty_nr, tpgid.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const tpgid = Number(fields[5])
  return Number.isInteger(tpgid) && tpgid > 0 ? tpgid : undefined
}

/** The foreground process's name on the terminal `sessionLeader` is the session leader of,
 * or `undefined` when it cannot be told (the leader has exited, or not Linux). */
export function foregroundProcess(sessionLeader: number): string | undefined {
  if (process.platform !== 'linux' || sessionLeader <= 0) return undefined
  const group = foregroundGroup(sessionLeader)
  if (group === undefined) return undefined
  const cmdline = readProc(`/proc/${group}/cmdline`)
  const first = cmdline?.slice(0, cmdline.indexOf('\0') >>> 0)
  if (first) return Buffer.from(first, 'latin1').toString('utf8')
  // A zombie or a process that emptied its arguments: its command name, at least.
  const comm = readProc(`/proc/${group}/comm`)?.trimEnd()
  return comm ? Buffer.from(comm, 'latin1').toString('utf8') : undefined
}
