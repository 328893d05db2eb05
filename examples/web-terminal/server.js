#!/usr/bin/env node
// A terminal in the browser, as the xterm.js demo server does it, with napi-pty/node-pty where
// the demo has node-pty: xterm.js in the page, a WebSocket per terminal, a shell on a pty.
//
//   node examples/web-terminal/server.js [port]      then open http://localhost:3000/
//
// The page sends JSON messages: { type: 'input', data } and { type: 'resize', cols, rows }.
// The server sends the terminal's output as text frames. When the socket falls behind (more
// than HIGH_WATER bytes sent and not yet flushed), the pty is paused, so a child that floods
// the terminal is held back by the kernel instead of filling this process's memory.
'use strict'

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { WebSocketServer } = require('ws')

const pty = require('napi-pty/node-pty')

const HIGH_WATER = 1 << 20
const LOW_WATER = 64 << 10

const assets = {
  '/': [path.join(__dirname, 'index.html'), 'text/html; charset=utf-8'],
  '/xterm.js': [require.resolve('@xterm/xterm/lib/xterm.js'), 'text/javascript'],
  '/xterm.css': [require.resolve('@xterm/xterm/css/xterm.css'), 'text/css'],
  '/addon-fit.js': [require.resolve('@xterm/addon-fit/lib/addon-fit.js'), 'text/javascript'],
}

/** Starts the server; resolves with it once it listens. `shell`, `args` and `cwd` for every
 * terminal; the server emits `terminal` with each one it starts. */
function start({ port = 3000, host = '127.0.0.1', shell = process.env.SHELL || 'bash', args = [], cwd = process.env.HOME || process.cwd() } = {}) {
  const terminals = new Set()
  const server = http.createServer((req, res) => {
    const asset = assets[new URL(req.url, 'http://x').pathname]
    if (!asset || req.method !== 'GET') {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': asset[1], 'cache-control': 'no-store' })
    fs.createReadStream(asset[0]).pipe(res)
  })
  const wss = new WebSocketServer({ server, path: '/pty' })
  wss.on('connection', (socket, req) => {
    const query = new URL(req.url, 'http://x').searchParams
    const term = pty.spawn(shell, args, {
      name: 'xterm-256color',
      cols: Number(query.get('cols')) || 80,
      rows: Number(query.get('rows')) || 24,
      cwd,
      env: { ...process.env, COLORTERM: 'truecolor' },
    })
    terminals.add(term)
    server.emit('terminal', term)
    let unsent = 0
    let paused = false
    term.onData((data) => {
      unsent += Buffer.byteLength(data)
      socket.send(data, () => {
        unsent -= Buffer.byteLength(data)
        if (paused && unsent < LOW_WATER) {
          paused = false
          term.resume()
        }
      })
      if (!paused && unsent > HIGH_WATER) {
        paused = true
        term.pause()
      }
    })
    term.onExit(() => {
      terminals.delete(term)
      socket.close()
    })
    socket.on('message', (message) => {
      let msg
      try {
        msg = JSON.parse(message.toString())
      } catch {
        return
      }
      if (msg.type === 'input' && typeof msg.data === 'string') term.write(msg.data)
      else if (msg.type === 'resize' && Number.isInteger(msg.cols) && Number.isInteger(msg.rows) && msg.cols > 0 && msg.rows > 0) {
        term.resize(msg.cols, msg.rows)
      }
    })
    // The tab is gone: hang up, as closing a terminal window does.
    socket.on('close', () => term.destroy())
  })
  server.terminals = terminals
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve(server))
  })
}

module.exports = { start }

if (require.main === module) {
  start({ port: Number(process.argv[2]) || 3000 }).then((server) => {
    const { port } = server.address()
    console.log(`web terminal on http://localhost:${port}/`)
  })
}
