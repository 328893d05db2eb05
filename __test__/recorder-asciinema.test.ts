// The other direction of compatibility: recordings made by asciinema 3 itself (`asciinema rec`
// in a tmux pane) are played and converted by ours as asciinema converts them. Skipped, by
// name and with the reason, when scripts/asciinema.sh could not install asciinema.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { ASCIINEMA, ASCIINEMA_MISSING, asciinemaConvert, rawPrefix, tmuxPane } from './recorder-helpers'
import { napiPty, splitTypescript, tempDir } from './script-helpers'

const withAsciinema = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => {
  if (ASCIINEMA_MISSING) test.skip(`${title} [skipped: ${ASCIINEMA_MISSING}]`, fn)
  else test(title, fn)
}

const SESSION = String.raw`printf 'from asciinema\n\033[32mgreen\033[0m é\n'; read x; echo "got $x"; exit 3`

for (const format of ['asciicast-v3', 'asciicast-v2']) {
  withAsciinema(`an ${format} file made by asciinema rec under tmux: our replay and convert read it as asciinema does`, async (t) => {
    const dir = tempDir(t)
    const home = [`ASCIINEMA_CONFIG_HOME=${path.join(dir, 'config')}`, `ASCIINEMA_STATE_HOME=${path.join(dir, 'state')}`]
    const pane = await tmuxPane(t, dir, ['env', ...home, ASCIINEMA, 'rec', '-q', '--overwrite', '-f', format, '-c', `sh -c '${SESSION.replace(/'/g, `'\\''`)}'`, 'rec.cast'], { cols: 90, rows: 20 })
    await pane.waitForScreen(/green é/)
    await pane.keys('typed')
    await pane.enter()
    await pane.waitForExit()
    const header = JSON.parse(fs.readFileSync(path.join(dir, 'rec.cast'), 'utf8').split('\n')[0] as string) as { version: number }
    t.is(header.version, format === 'asciicast-v3' ? 3 : 2)

    const raw = await asciinemaConvert(dir, 'raw', 'rec.cast')
    const prefix = rawPrefix(90, 20)
    t.true(raw.subarray(0, prefix.length).equals(prefix))
    const output = raw.subarray(prefix.length)
    t.true(output.includes('got typed'))

    const replayed = await napiPty(['replay', '--speed', '1000', 'rec.cast'], { cwd: dir })
    t.deepEqual([replayed.code, replayed.stderr.toString()], [0, ''])
    t.true(replayed.stdout.equals(output))

    for (const [out, args] of [['ours.txt', []], ['ours.ts', []], ['ours.cast', ['--to', 'asciicast']]] as const) {
      const converted = await napiPty(['convert', ...args, 'rec.cast', out], { cwd: dir })
      t.deepEqual([converted.code, converted.stderr.toString()], [0, ''], out)
    }
    t.is(fs.readFileSync(path.join(dir, 'ours.txt'), 'utf8'), (await asciinemaConvert(dir, 'txt', 'rec.cast')).toString())
    const ts = splitTypescript(fs.readFileSync(path.join(dir, 'ours.ts')))
    t.true(ts.body.equals(output))
    if (format === 'asciicast-v3') t.regex(ts.footer, /COMMAND_EXIT_CODE="3"/)
    // And what we wrote from it, asciinema reads back to the same bytes.
    t.true((await asciinemaConvert(dir, 'raw', 'ours.cast')).equals(raw))
  })
}
