#!/usr/bin/env node
// An example session: runs a few commands on a new pseudo-terminal and shows what the child saw.
// Run it after `npm run build` with `node examples/session.js`. (`npm start` is the recorder.)
'use strict'
// '../' and not '..': a file named like the checkout with .js beside it must not be taken.
const { fork } = require('../')

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
