#!/usr/bin/env node
// An example session: runs a few commands on a new pseudo-terminal and shows what the child saw.
// (The script(1)-style recorder will take over `npm start` once it lands.)
'use strict'
const { fork } = require('..')

async function main() {
  const shell = process.env.SHELL || '/bin/sh'
  const child = await fork([shell, '-c', 'echo "on $(tty), $(stty size) rows/cols, TERM=$TERM"; test -t 1 && echo "stdout is a terminal"'], {
    cols: 100,
    rows: 30,
  })
  console.log(`started ${shell} as pid ${child.pid} on ${child.ptsName}`)
  for await (const chunk of child) process.stdout.write(chunk)
  const status = await child.wait()
  console.log('exit status:', status)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
