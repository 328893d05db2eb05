// util-linux is the reference for -I/-O/-B and -m advanced: the same typed session, recorded in
// a tmux pane by util-linux `script` and by ours, gives logs that `scriptreplay` plays to the
// same output, with input and output streams byte for byte the same.

import * as fs from 'node:fs'
import * as path from 'node:path'

import test, { type ExecutionContext } from 'ava'

import { tmuxPane } from './recorder-helpers'
import { BIN, pollUntil, run, splitTypescript, tempDir } from './script-helpers'

const SESSION = `read a; echo "got $a"; read b; echo "got $b"; exit 4`

interface Logs {
  timing: string
  /** The streams as scriptreplay plays them. */
  out: Buffer
  in: Buffer
}

/** Records SESSION, typed in a tmux pane, with `recorder` and `args` (logs named with `prefix`). */
async function recordTyped(t: ExecutionContext, dir: string, recorder: string[], logArgs: string[], prefix: string): Promise<void> {
  const pane = await tmuxPane(t, dir, [...recorder, '-q', '-e', ...logArgs, '-T', `${prefix}.tim`, '-c', SESSION])
  const tty = (await pane.tmux('display-message', '-p', '-t', 'rec', '#{pane_tty}')).trim()
  // Keys typed before the recorder has the pane's terminal in raw mode would be cooked by it.
  await pollUntil('raw mode on the pane', async () => ((await run('stty', ['-F', tty], { cwd: dir })).stdout.toString().includes('-icanon') ? true : undefined))
  await pane.keys('one')
  await pane.enter()
  await pane.waitForScreen(/got one/)
  await pane.keys('two')
  await pane.enter()
  t.is(await pane.waitForExit(), 4)
}

function endsWithNewline(out: Buffer, args: string[]): void {
  if (out.at(-1) !== 0x0a) throw new Error(`scriptreplay ${args.join(' ')} did not end with its newline`)
}

async function scriptreplay(dir: string, args: string[], stream: 'out' | 'in'): Promise<Buffer> {
  const result = await run('scriptreplay', [...args, '--stream', stream, '--cr-mode', 'never', '--divisor', '1000'], { cwd: dir })
  if (result.code !== 0) throw new Error(`scriptreplay ${args.join(' ')}: ${result.stderr.toString()}`)
  // scriptreplay ends every playback with a newline of its own (printf("\n") before it exits).
  endsWithNewline(result.stdout, args)
  return result.stdout.subarray(0, -1)
}

const ours = [process.execPath, BIN, 'script']
const theirs = ['script']

test('-B log and -T timing: scriptreplay plays ours as util-linux\'s, in and out streams alike', async (t) => {
  const dir = tempDir(t)
  await recordTyped(t, dir, theirs, ['-B', 'ul.io'], 'ul')
  await recordTyped(t, dir, ours, ['-B', 'our.io'], 'our')
  const logs: Record<string, Logs> = {}
  for (const who of ['ul', 'our']) {
    const args = ['--log-io', `${who}.io`, '--log-timing', `${who}.tim`]
    logs[who] = {
      timing: fs.readFileSync(path.join(dir, `${who}.tim`), 'utf8'),
      out: await scriptreplay(dir, args, 'out'),
      in: await scriptreplay(dir, args, 'in'),
    }
  }
  const [ul, our] = [logs.ul as Logs, logs.our as Logs]
  t.is(our.out.toString(), ul.out.toString())
  t.is(our.in.toString(), ul.in.toString())
  t.is(our.in.toString(), 'one\rtwo\r')
  t.regex(our.out.toString(), /got one\r\n[^]*got two\r\n/)
  // The same records in the same order: H names, then I/O, then the closing H records.
  const shape = (timing: string): string[] => timing.trimEnd().split('\n').map((line) => (line.startsWith('H ') ? `H ${line.split(' ')[2]}` : line[0] as string))
  const squash = (kinds: string[]): string[] => kinds.filter((k, i) => k.startsWith('H') || k !== kinds[i - 1])
  t.deepEqual(shape(our.timing).filter((k) => k.startsWith('H')), shape(ul.timing).filter((k) => k.startsWith('H')))
  t.true(squash(shape(our.timing)).length > 4)
  // Both logs end with the same footer form, exit code included.
  for (const who of ['ul', 'our']) {
    t.regex(splitTypescript(fs.readFileSync(path.join(dir, `${who}.io`))).footer, /\[COMMAND_EXIT_CODE="4"\]\n$/)
  }
  // And our replay plays both as scriptreplay does.
  for (const who of ['ul', 'our']) {
    for (const stream of ['out', 'in'] as const) {
      const result = await run(process.execPath, [BIN, 'replay', '--stream', stream, '-T', `${who}.tim`, '--speed', '1000', `${who}.io`], { cwd: dir })
      t.is(result.code, 0, result.stderr.toString())
      t.true(result.stdout.equals((logs[who] as Logs)[stream]), `${who} ${stream}`)
    }
  }
})

test('-I and -O logs: the same input and output logs as util-linux\'s, body for body', async (t) => {
  const dir = tempDir(t)
  await recordTyped(t, dir, theirs, ['-I', 'ul.in', '-O', 'ul.out'], 'ul')
  await recordTyped(t, dir, ours, ['-I', 'our.in', '-O', 'our.out'], 'our')
  for (const stream of ['in', 'out']) {
    const ul = splitTypescript(fs.readFileSync(path.join(dir, `ul.${stream}`))).body
    const our = splitTypescript(fs.readFileSync(path.join(dir, `our.${stream}`))).body
    t.is(our.toString(), ul.toString(), stream)
  }
  for (const who of ['ul', 'our']) {
    const args = ['--log-in', `${who}.in`, '--log-out', `${who}.out`, '--log-timing', `${who}.tim`]
    t.is((await scriptreplay(dir, args, 'in')).toString(), 'one\rtwo\r', who)
    const result = await run(process.execPath, [BIN, 'replay', '--stream', 'in', '-T', `${who}.tim`, `${who}.in`, '--speed', '1000'], { cwd: dir })
    t.is(result.stdout.toString(), 'one\rtwo\r', `${who}: ${result.stderr.toString()}`)
    // The output log alone, its input records skipped, plays as scriptreplay plays it.
    const out = await run(process.execPath, [BIN, 'replay', '-T', `${who}.tim`, `${who}.out`, '--speed', '1000'], { cwd: dir })
    t.true(out.stdout.equals(await scriptreplay(dir, args, 'out')), `${who}: ${out.stderr.toString()}`)
    t.regex(out.stdout.toString(), /got one\r\n[^]*got two\r\n$/)
  }
})
