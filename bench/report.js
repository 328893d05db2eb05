'use strict'
// From the raw results of a run (run.js's JSON) to medians, ratios, the issue's targets and
// a Markdown report. Pure functions: `node bench/run.js --report FILE.json` re-renders a run.

const MiB = 1 << 20
const GiB = 1 << 30

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(values, q) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (!v.length) return undefined
  // Nearest rank.
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))]
}
const median = (v) => {
  const s = v.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (!s.length) return undefined
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const p95 = (v) => quantile(v, 0.95)
const max = (v) => (v.length ? Math.max(...v) : undefined)
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b)

// ---------------------------------------------------------------------------------------------
// Summary

/** Runs of one scenario (and variant) grouped by peer. */
function byPeer(json, scenario, variant) {
  const out = {}
  for (const r of json.results) {
    if (r.scenario !== scenario) continue
    if (variant && Object.entries(variant).some(([k, v]) => r.variant?.[k] !== v)) continue
    ;(out[r.peer] ??= []).push(r)
  }
  return out
}

/** What every peer's runs have in common: how many failed, and why. */
function status(runs) {
  const failed = runs.filter((r) => !r.ok)
  return {
    runs: runs.length,
    failed: failed.length,
    errors: [...new Set(failed.map((r) => r.error))],
    dataRuns: runs.filter((r) => r.data && !r.data.error).length,
    withData: runs.filter((r) => r.data && !r.data.error).map((r) => r.data),
  }
}

function summarizeSamples(runs) {
  const st = status(runs)
  const samples = st.withData.flatMap((d) => d.samples ?? [])
  return { ...st, withData: undefined, n: samples.length, median: median(samples), p95: p95(samples) }
}

function summarize(json) {
  const s = {}
  const has = (key) => json.scenarios.some((sc) => sc.key === key)

  if (has('throughput')) {
    s.throughput = {}
    for (const [peer, runs] of Object.entries(byPeer(json, 'throughput'))) {
      const st = status(runs)
      const d = st.withData
      const bytes = median(d.map((x) => x.expectedBytes))
      s.throughput[peer] = {
        ...st,
        withData: undefined,
        mibps: median(d.map((x) => x.bytes / MiB / (x.ms / 1000))),
        cpuMs: median(d.map((x) => x.cpuMs)),
        cpuMsPerGiB: median(d.map((x) => (x.cpuMs / x.bytes) * GiB)),
        loopMs: median(d.map((x) => x.loopMs)),
        readerMs: median(d.map((x) => x.readerMs).filter((v) => v !== undefined)),
        rssMiB: median(d.map((x) => x.maxRssKiB / 1024)),
        bytes,
        exact: d.filter((x) => x.bytes === x.expectedBytes).length,
        short: d.filter((x) => x.bytes !== x.expectedBytes).map((x) => x.bytes),
      }
    }
  }
  for (const key of ['spawn', 'firstbyte']) {
    if (!has(key)) continue
    s[key] = {}
    for (const [peer, runs] of Object.entries(byPeer(json, key))) s[key][peer] = summarizeSamples(runs)
  }
  if (has('bigparent')) {
    s.bigparent = {}
    const sc = json.scenarios.find((x) => x.key === 'bigparent')
    for (const v of sc.variants ?? []) {
      const row = (s.bigparent[v.gib] = {})
      for (const [peer, runs] of Object.entries(byPeer(json, 'bigparent', { gib: v.gib }))) row[peer] = summarizeSamples(runs)
    }
  }
  if (has('screen')) {
    const st = status(byPeer(json, 'screen')['napi-pty'] ?? [])
    const d = st.withData
    const m = (f) => median(d.map(f))
    s.screen = {
      ...st,
      withData: undefined,
      streamMs: m((x) => x.stream.ms),
      screenMs: m((x) => x.screen.ms),
      streamCpuMs: m((x) => x.stream.cpuMs),
      screenCpuMs: m((x) => x.screen.cpuMs),
      wallRatio: m((x) => x.screen.ms / x.stream.ms),
      cpuRatio: m((x) => x.screen.cpuMs / x.stream.cpuMs),
      bytes: m((x) => x.stream.bytes),
    }
  }
  if (has('lost')) {
    s.lost = {}
    for (const [peer, runs] of Object.entries(byPeer(json, 'lost'))) {
      const st = status(runs)
      const d = st.withData
      const trials = d.reduce((a, x) => a + x.trials, 0)
      const lost = d.reduce((a, x) => a + x.lost, 0)
      s.lost[peer] = { ...st, withData: undefined, trials, lost, lostBytes: d.reduce((a, x) => a + x.lostBytes, 0), pct: trials ? (100 * lost) / trials : undefined }
    }
  }
  for (const key of ['concurrency', 'idle']) {
    if (!has(key)) continue
    s[key] = {}
    for (const [peer, runs] of Object.entries(byPeer(json, key))) {
      const st = status(runs)
      const d = st.withData
      const children = median(d.map((x) => x.children))
      const withProc = d.filter((x) => x.base && x.peak)
      s[key][peer] = {
        ...st,
        withData: undefined,
        children,
        wallMs: median(d.map((x) => x.wallMs)),
        spawnMs: median(d.map((x) => x.spawnMs)),
        cpuSpawnMs: median(d.map((x) => x.cpuSpawnMs)),
        cpuWindowMs: median(d.map((x) => x.cpuWindowMs)),
        rssMiB: median(d.map((x) => x.maxRssKiB / 1024)),
        baseThreads: withProc.length ? median(withProc.map((x) => x.base.threads)) : undefined,
        peakThreads: withProc.length ? max(withProc.map((x) => x.peak.threads)) : undefined,
        baseFds: withProc.length ? median(withProc.map((x) => x.base.fds)) : undefined,
        peakFds: withProc.length ? max(withProc.map((x) => x.peak.fds)) : undefined,
        fdsPerChild: withProc.length ? max(withProc.map((x) => (x.peak.fds - x.base.fds) / x.children)) : undefined,
        threadsAdded: withProc.length ? max(withProc.map((x) => x.peak.threads - x.base.threads)) : undefined,
        complete: d.filter((x) => x.exits === x.children && x.ready === x.children).length,
      }
    }
  }
  s.targets = targets(json, s)
  s.readTargets = readTargets(json, s)
  return s
}

/**
 * `value` of `peer` ÷ that of `ref`, repetition by repetition (the two ran back to back, under
 * the same load), then the median and range of those ratios. Under a load that drifts during
 * the run this is the steadier figure; the targets are still judged on the ratio of medians.
 */
function pairedRatios(json, scenario, peer, ref, value) {
  const byRep = (name) => new Map(json.results.filter((r) => r.scenario === scenario && r.peer === name && r.data && !r.data.error).map((r) => [r.rep, value(r.data)]))
  const theirs = byRep(ref)
  const v = [...byRep(peer)].map(([rep, mine]) => ratio(mine, theirs.get(rep))).filter((x) => x !== undefined)
  return v.length ? { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length } : undefined
}

// ---------------------------------------------------------------------------------------------
// The issue's targets, judged on this run's figures (a report, never an assertion).

/** A ratio or figure for the targets' tables, with a dash where there is none. */
const fx = (x, d = 2) => (x === undefined ? '—' : x.toFixed(d))
/** The paired ratios of a throughput figure, as a note for the targets' tables. */
function pairedNote(json, peer, ref, value) {
  const q = pairedRatios(json, 'throughput', peer, ref, value)
  return q && `paired by repetition: ${fx(q.median)}×, ${fx(q.min)}–${fx(q.max)}× over ${q.n}`
}

const NODE_PTY_PEERS = ['node-pty', 'lydell-node-pty']
const OTHER_PEERS = ['node-pty', 'lydell-node-pty', 'ruspty', 'python-fork', 'python-spawn']

function targets(json, s) {
  const t = []
  const add = (target, measured, met, note) => t.push({ target, measured, met, note })
  const C = 'c-forkpty'

  if (s.throughput?.[C]) {
    for (const peer of ['napi-pty', 'napi-pty-spawn']) {
      const p = s.throughput[peer]
      if (!p) continue
      const paired = (value) => pairedNote(json, peer, C, value)
      const r = ratio(p.mibps, s.throughput[C].mibps)
      add(
        `throughput ≥ 0.97× C (${label(json, peer)})`,
        `${fx(r)}× C (${fx(p.mibps, 0)} vs ${fx(s.throughput[C].mibps, 0)} MiB/s)`,
        r === undefined ? undefined : r >= 0.97 && p.exact === p.runs,
        paired((d) => d.bytes / d.ms),
      )
      const c = ratio(p.cpuMsPerGiB, s.throughput[C].cpuMsPerGiB)
      // spawn() writes what it reads to a file, which the reference does not: say what C doing
      // the same costs, without moving the target.
      const file = s.throughput['c-forkpty-file']
      const f = peer === 'napi-pty-spawn' && file ? ratio(p.cpuMsPerGiB, file.cpuMsPerGiB) : undefined
      const toFile = f === undefined ? undefined : `${fx(f)}× C writing to a file, ${fx(file.cpuMsPerGiB, 0)} ms/GiB`
      // What a thread that reads and a thread that receives cost C: this design's floor.
      const floor = s.throughput['c-handoff']
      const floorRatio = floor ? ratio(floor.cpuMsPerGiB, s.throughput[C].cpuMsPerGiB) : undefined
      const toFloor = floorRatio === undefined ? undefined : `C with a reader and a receiver thread: ${fx(floorRatio)}× C`
      const note = [toFile, toFloor, paired((d) => d.cpuMs / d.bytes)].filter(Boolean).join('; ') || undefined
      add(`parent CPU per byte ≤ 1.1× C (${label(json, peer)})`, `${fx(c)}× C (${fx(p.cpuMsPerGiB, 0)} vs ${fx(s.throughput[C].cpuMsPerGiB, 0)} ms/GiB)`, c === undefined ? undefined : c <= 1.1, note)
    }
  }
  for (const [key, what] of [
    ['spawn', 'spawn latency'],
    ['firstbyte', 'first-byte latency'],
  ]) {
    const sc = s[key]
    if (!sc?.['napi-pty']) continue
    const n = sc['napi-pty'].median
    if (sc[C]) {
      const r = ratio(n, sc[C].median)
      add(`${what} ≤ 1.3× C`, `${fx(r)}× C (${fx(n)} vs ${fx(sc[C].median)} ms median)`, r === undefined ? undefined : r <= 1.3)
    }
    const best = OTHER_PEERS.filter((p) => sc[p]?.median !== undefined && sc[p].failed < sc[p].runs).sort((a, b) => sc[a].median - sc[b].median)[0]
    if (best) {
      const r = ratio(sc[best].median, n)
      add(`${what} ≥ 1.5× faster than the best peer`, `${fx(r)}× faster than ${label(json, best)} (${fx(sc[best].median)} ms)`, r === undefined ? undefined : r >= 1.5)
    }
  }
  if (s.bigparent?.[2]?.['napi-pty'] && s.bigparent?.[0]?.['napi-pty']) {
    const r = ratio(s.bigparent[2]['napi-pty'].median, s.bigparent[0]['napi-pty'].median)
    const peers = OTHER_PEERS.filter((p) => s.bigparent[2][p] && s.bigparent[0][p]).map((p) => `${label(json, p)} ${fx(ratio(s.bigparent[2][p].median, s.bigparent[0][p].median), 1)}×`)
    add('spawn latency, 2 GiB parent ≤ 1.5× empty parent', `${fx(r)}× (${fx(s.bigparent[2]['napi-pty'].median)} vs ${fx(s.bigparent[0]['napi-pty'].median)} ms); peers: ${peers.join(', ')}`, r === undefined ? undefined : r <= 1.5)
  }
  if (s.lost) {
    for (const peer of ['napi-pty', 'napi-pty-spawn']) {
      const p = s.lost[peer]
      if (!p) continue
      const planned = json.scenarios.find((x) => x.key === 'lost')
      add(`0 lost at exit (${label(json, peer)})`, `${p.lost} of ${p.trials} trials`, p.trials === planned.params.trials * planned.reps ? p.lost === 0 : undefined, p.trials < 2000 ? `the issue asks for 2,000 trials; this run made ${p.trials}` : undefined)
    }
  }
  const cc = s.concurrency?.['napi-pty']
  if (cc && cc.peakThreads !== undefined) {
    const n = cc.children
    // "The thread count stays that of an idle process plus a constant": fewer added threads
    // than 1% of the children (at least 8) counts as a constant.
    const limit = Math.max(8, n / 100)
    add(`no thread per child at ${n} children`, `threads ${cc.baseThreads} idle → ${cc.peakThreads} peak (+${cc.threadsAdded})`, cc.threadsAdded <= limit, `met when fewer than ${limit} threads are added`)
    // At most 2 fds per child, plus a constant (the reactor's epoll, waker…): 2n + 16.
    const added = cc.peakFds - cc.baseFds
    add(`≤ 2 fds per child at ${n} children`, `${fx(cc.fdsPerChild)} per child (${cc.baseFds} → ${cc.peakFds})`, added <= 2 * n + 16, 'a constant of up to 16 fds (the reactor’s own) is allowed')
    const np = NODE_PTY_PEERS.map((p) => s.concurrency[p]).find((x) => x && x.rssMiB !== undefined)
    const npKey = NODE_PTY_PEERS.find((p) => s.concurrency[p]?.rssMiB !== undefined)
    if (np) {
      add(`parent RSS ≤ node-pty's at ${n} children`, `${fx(cc.rssMiB, 0)} MiB vs ${fx(np.rssMiB, 0)} MiB (${label(json, npKey)})`, cc.rssMiB <= np.rssMiB)
    }
  }
  if (s.idle?.['napi-pty'] && s.idle?.[C]) {
    const r = ratio(s.idle['napi-pty'].cpuWindowMs, s.idle[C].cpuWindowMs)
    const node = s.idle['node-child-process']
    const nodeNote = node ? `Node's child_process without a pty: ${fx(ratio(node.cpuWindowMs, s.idle[C].cpuWindowMs), 1)}× C` : undefined
    add('idle parent CPU ≤ 2× C', `${fx(s.idle['napi-pty'].cpuWindowMs, 1)} vs ${fx(s.idle[C].cpuWindowMs, 1)} ms (${fx(r, 1)}× C)`, r === undefined ? undefined : r <= 2, nodeNote)
  }
  return t
}

/**
 * Issue 26's targets: the stream against the two-thread C program (`handoff.c`), the floor of a
 * design that reads on one thread and hands the chunks to another, and against every peer;
 * `spawn()` to a file against C writing each read to a file. Judged, as issue 6's, on the ratio
 * of medians; the issue asks for at least 7 alternating processes, so a run with fewer judges
 * nothing.
 */
function readTargets(json, s) {
  const t = []
  const tp = s.throughput
  const me = tp?.['napi-pty']
  if (!me) return t
  const add = (target, measured, met, note) => t.push({ target, measured, met, note })
  const reps = json.scenarios.find((x) => x.key === 'throughput')?.reps ?? 0
  const judged = (met) => (reps >= 7 ? met : undefined)
  const few = reps >= 7 ? undefined : `the issue asks for at least 7 processes; this run made ${reps}`
  const notes = (...n) => n.filter(Boolean).join('; ') || undefined
  const floor = tp['c-handoff']
  if (floor) {
    const epoll = tp['napi-pty-epoll']
    const r = ratio(me.mibps, floor.mibps)
    const re = epoll && ratio(epoll.mibps, floor.mibps)
    add(
      'stream throughput ≥ 0.97× the two-thread C program',
      `${fx(r)}× (${fx(me.mibps, 0)} vs ${fx(floor.mibps, 0)} MiB/s)`,
      r === undefined ? undefined : judged(r >= 0.97 && me.exact === me.runs),
      notes(pairedNote(json, 'napi-pty', 'c-handoff', (d) => d.bytes / d.ms), re !== undefined && `epoll path ${fx(re)}×`, few),
    )
    const c = ratio(me.cpuMsPerGiB, floor.cpuMsPerGiB)
    const ce = epoll && ratio(epoll.cpuMsPerGiB, floor.cpuMsPerGiB)
    const reader = me.readerMs !== undefined && floor.readerMs !== undefined ? `reading thread ${fx(ratio(me.readerMs, floor.readerMs))}× C's` : undefined
    add(
      'stream parent CPU per byte ≤ 1.1× the two-thread C program',
      `${fx(c)}× (${fx(me.cpuMsPerGiB, 0)} vs ${fx(floor.cpuMsPerGiB, 0)} ms/GiB)`,
      c === undefined ? undefined : judged(c <= 1.1),
      notes(pairedNote(json, 'napi-pty', 'c-handoff', (d) => d.cpuMs / d.bytes), reader, ce !== undefined && `epoll path ${fx(ce)}×`, few),
    )
  }
  const peers = OTHER_PEERS.filter((p) => tp[p]?.mibps !== undefined).sort((a, b) => tp[b].mibps - tp[a].mibps)
  if (peers.length) {
    const best = peers[0]
    const lossy = peers.filter((p) => tp[p].exact < tp[p].runs).map((p) => label(json, p))
    add(
      "stream throughput ≥ every peer's",
      `${fx(me.mibps, 0)} MiB/s; fastest peer ${label(json, best)} ${fx(tp[best].mibps, 0)}`,
      judged(me.mibps >= tp[best].mibps && me.exact === me.runs),
      notes(lossy.length && `short of bytes in some runs: ${lossy.join(', ')}`, jsCostNote(json, tp), few),
    )
  }
  const spawned = tp['napi-pty-spawn']
  const file = tp['c-forkpty-file']
  if (spawned && file) {
    const r = ratio(spawned.cpuMsPerGiB, file.cpuMsPerGiB)
    add(
      '`spawn()` to a file: CPU per byte ≤ 1.05× C writing to a file',
      `${fx(r)}× (${fx(spawned.cpuMsPerGiB, 0)} vs ${fx(file.cpuMsPerGiB, 0)} ms/GiB)`,
      r === undefined ? undefined : judged(r <= 1.05),
      notes(pairedNote(json, 'napi-pty-spawn', 'c-forkpty-file', (d) => d.cpuMs / d.bytes), few),
    )
  }
  return t
}

/**
 * What the two-thread C program reads at once its receiver carries the JS side's CPU of the
 * napi-pty process before it: the stream's design with Node's cost and none of napi-pty's code.
 */
function jsCostNote(json, tp) {
  const cost = tp['c-uring-js-cost']
  const plain = tp['c-uring-receiver']
  if (!cost || !plain) return undefined
  const q = pairedRatios(json, 'throughput', 'napi-pty', 'c-uring-js-cost', (d) => d.bytes / d.ms)
  const paired = q ? `, the stream paired ${fx(q.median)}× it` : ''
  return `the C io_uring reader + receiver ${fx(plain.mibps, 0)} MiB/s, ${fx(cost.mibps, 0)} with its receiver spending what the stream's JS side spent${paired}`
}

function label(json, key) {
  return json.peers?.[key]?.label ?? key
}

// ---------------------------------------------------------------------------------------------
// Markdown

function markdown(json, opts = {}) {
  const s = json.summary
  const m = json.machine
  const out = []
  let current = out
  const line = (x = '') => current.push(x)
  // Each scenario's section is written apart, then all of them in the run's order.
  const sections = {}
  const section = (key) => (current = sections[key] = [])
  const f = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(d))
  const r = (a, b) => {
    const x = ratio(a, b)
    return x === undefined ? '—' : `${x.toFixed(2)}×`
  }
  const ok = (st) => (st.failed ? ` ⚠ ${st.failed}/${st.runs} runs failed` : '')
  const table = (head, rows) => {
    line(`| ${head.join(' | ')} |`)
    line(`|${head.map((h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`)
    for (const row of rows) line(`| ${row.join(' | ')} |`)
    line()
  }
  const peersOf = (key) => {
    const sc = json.scenarios.find((x) => x.key === key)
    return sc.peers.filter((p) => json.peers[p]?.available)
  }
  const L = (key) => label(json, key)
  const sc = (key) => json.scenarios.find((x) => x.key === key)
  const loads = json.loadavg.samples ?? []

  line(`# napi-pty benchmark: ${json.mode} run`)
  line()
  line(`${json.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}, napi-pty ${json.versions['napi-pty']}; ${json.durationS ?? '?'} s.`)
  line()
  line(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB; ${m.kernel}; transparent huge pages: ${m.thp ?? 'unknown'}.`)
  line(`- Load average (1 min) while it ran: median ${f(median(loads), 2)}, from ${f(Math.min(...loads), 2)} to ${f(Math.max(...loads), 2)} (at the start ${json.loadavg.start.map((x) => x.toFixed(2)).join(' / ')}). The machine is shared: figures taken under load are noisy.`)
  line(`- Node ${m.node}, ${m.python ?? 'no python3'}, ${m.cc ?? 'no cc'}.`)
  const vs = Object.entries(json.versions).filter(([k]) => k !== 'napi-pty').map(([k, v]) => `${k} ${v}`)
  line(`- Peers: ${vs.join(', ')}; Python's \`pty\` (\`fork\` + \`os.read(fd, 65536)\` until EIO; \`spawn\` as documented, whose reads are 1024 bytes); C: \`forkpty\` + \`read\` with a 64 KiB buffer (bench/peers/forkpty.c), the physical-limit reference; in the throughput scenario also “C forkpty → file”, the same program writing each read to a file, as \`spawn()\` copies to one.`)
  const skipped = Object.entries(json.peers).filter(([, p]) => !p.available)
  if (skipped.length) line(`- Skipped: ${skipped.map(([k, p]) => `${k} (${p.reason})`).join('; ')}.`)
  line(`- Each scenario × peer × repetition ran in a fresh process, the order of the peers alternating between repetitions. Ratios are peer ÷ napi-pty (and ÷ C) of the figure in that column.`)
  line()

  if (s.throughput) {
    section('throughput')
    const p = sc('throughput')
    const c = s.throughput['c-forkpty']
    const n = s.throughput['napi-pty']
    line(`## ${p.title}`)
    line()
    line(`The child writes ${p.params.bytes} bytes (\`head -c ${p.params.bytes} /dev/zero\`); MiB/s to the last byte received, parent CPU (user + system, all threads) over the transfer, of it the thread that reads the master (napi-pty's reactor; the C programs' reading thread, which in forkpty.c is the program) and the Node peers' event-loop thread, peak RSS of the parent. Median of ${p.reps} process${p.reps > 1 ? 'es' : ''} per peer. \`napi-pty\` reads through \`PtyProcess\` (\`'data'\` events); \`napi-pty spawn()\` copies natively to a file. “C reader + receiver thread” (bench/peers/handoff.c) reads on one thread and hands each chunk (up to 124 KiB, at most 4 queued) to a second thread that frees it at once: the least a design that reads off the event loop can cost. “C io_uring multishot reader” (bench/peers/uring.c) reads on one thread with no read(2) at all: a multishot read into 4 provided 124 KiB buffers, completions reaped in batches (Linux 6.12); “C io_uring reader + receiver thread” hands each full buffer to a second thread as the receiver of handoff.c, the ring's 4 buffers being the credit; “at the JS side's cost”, the same with its receiver spending on each chunk, in CPU, what the \`napi-pty\` process just before it spent beside its reading thread (its JS thread and V8's helpers).`)
    line()
    table(
      ['peer', 'MiB/s', '÷ napi-pty', '÷ C', 'parent CPU (ms)', 'CPU ÷ C', 'reading thread (ms)', 'event loop (ms)', 'peak RSS (MiB)', 'bytes exact'],
      peersOf('throughput').map((k) => {
        const x = s.throughput[k]
        if (!x) return [L(k), '—', '', '', '', '', '', '', '', 'no run']
        const exact = x.exact === x.runs ? `${x.exact}/${x.runs}` : `**${x.exact}/${x.runs}** (short: ${x.short.slice(0, 3).join(', ')})`
        return [L(k), f(x.mibps, 0), r(x.mibps, n?.mibps), r(x.mibps, c?.mibps), f(x.cpuMs, 0), r(x.cpuMsPerGiB, c?.cpuMsPerGiB), x.readerMs === undefined ? '—' : f(x.readerMs, 0), x.loopMs === undefined ? '—' : f(x.loopMs, 0), f(x.rssMiB, 0), exact + (x.dataRuns < x.runs ? ` ⚠ ${x.runs - x.dataRuns} runs without figures` : '')]
      }),
    )
  }
  for (const key of ['spawn', 'firstbyte']) {
    if (!s[key]) continue
    section(key)
    const p = sc(key)
    const c = s[key]['c-forkpty']
    const n = s[key]['napi-pty']
    line(`## ${p.title}`)
    line()
    if (key === 'spawn') line(`\`true\`, ${p.params.spawns} times in sequence per process × ${p.reps} processes; from the call that starts it to its exit being reported (for the pty peers: after the output's end).`)
    else line(`\`echo hi\`, ${p.params.spawns} times per process × ${p.reps} processes; from the call that starts it to its first output; every child must deliver exactly \`hi\\r\\n\`.`)
    line()
    table(
      ['peer', 'median (ms)', 'p95 (ms)', '÷ napi-pty', '÷ C', 'samples'],
      peersOf(key).map((k) => {
        const x = s[key][k]
        if (!x) return [L(k), '—', '—', '', '', 'no run']
        return [L(k), f(x.median, 2), f(x.p95, 2), r(x.median, n?.median), r(x.median, c?.median), `${x.n}${ok(x)}`]
      }),
    )
  }
  if (s.bigparent) {
    section('bigparent')
    const p = sc('bigparent')
    const sizes = (p.variants ?? []).map((v) => v.gib)
    line(`## ${p.title}`)
    line()
    line(`As scenario 2 (${p.params.spawns} spawns per process × ${p.reps} processes) after the parent allocated and filled that much memory in Buffers (Python: a bytearray; C: malloc + memset). Median (p95) in ms.`)
    line()
    const has2 = sizes.includes(2) && sizes.includes(0)
    const last = sizes[sizes.length - 1]
    table(
      ['peer', ...sizes.map((g) => `${g} GiB`), has2 ? '2 GiB ÷ 0 GiB' : `${last} GiB ÷ 0 GiB`],
      peersOf('bigparent').map((k) => {
        const cells = sizes.map((g) => {
          const x = s.bigparent[g]?.[k]
          return x && x.median !== undefined ? `${f(x.median, 2)} (${f(x.p95, 2)})${ok(x)}` : x ? `—${ok(x)}` : '—'
        })
        const top = s.bigparent[has2 ? 2 : last]?.[k]
        return [L(k), ...cells, r(top?.median, s.bigparent[0]?.[k]?.median)]
      }),
    )
    if (opts.chart) line(`![Spawn latency against parent memory](${opts.chart})`)
    else if (opts.chartNote) line(`(${opts.chartNote})`)
    line()
  }
  if (s.lost) {
    section('lost')
    const p = sc('lost')
    line(`## ${p.title}`)
    line()
    line(`A child prints ${p.params.bytes} bytes and exits at once (\`head -c ${p.params.bytes} /dev/zero\`), ${p.params.trials} trials per process × ${p.reps}. A trial is lost when fewer bytes arrived by the time the exit was reported plus 50 ms. \`napi-pty spawn()\` appends to a file, which must grow by exactly ${p.params.bytes} bytes per trial.`)
    line()
    table(
      ['peer', 'trials', 'lost', 'lost %', 'bytes lost'],
      peersOf('lost').map((k) => {
        const x = s.lost[k]
        if (!x) return [L(k), '—', '', '', '']
        return [L(k), `${x.trials}${ok(x)}`, String(x.lost), f(x.pct, 1), String(x.lostBytes)]
      }),
    )
  }
  if (s.concurrency) {
    section('concurrency')
    const p = sc('concurrency')
    const n = s.concurrency['napi-pty']
    line(`## ${p.title}`)
    line()
    line(`${p.params.children} children at once (\`sh -c 'echo ready; sleep ${p.params.sleep}'\`), until every exit is reported. Threads and fds of the parent from /proc (sampled from outside every 20 ms, plus before the first child and once all have started; fds per child = (peak − before) ÷ children), peak RSS from getrusage. A peer whose spawn call is synchronous cannot have them all running at once when starting them takes longer than the sleep: see “all started”. Median of ${p.reps} processes (peaks: the maximum).`)
    line()
    table(
      ['peer', 'wall (s)', 'all started (ms)', 'threads idle → peak', 'fds per child', 'peak RSS (MiB)', 'RSS ÷ napi-pty', 'output & exit seen'],
      peersOf('concurrency').map((k) => {
        const x = s.concurrency[k]
        if (!x) return [L(k), '—', '', '', '', '', '', 'no run']
        const th = x.baseThreads === undefined ? '—' : `${x.baseThreads} → ${x.peakThreads}`
        return [L(k), f(x.wallMs / 1000, 2), f(x.spawnMs, 0), th, f(x.fdsPerChild, 2), f(x.rssMiB, 0), r(x.rssMiB, n?.rssMiB), `${x.complete}/${x.runs} runs complete${ok(x)}`]
      }),
    )
  }
  if (s.idle) {
    section('idle')
    const p = sc('idle')
    const n = s.idle['napi-pty']
    const c = s.idle['c-forkpty']
    line(`## ${p.title}`)
    line()
    line(`${p.params.children} children \`sleep ${p.params.sleep}\`; parent CPU (user + system, all threads) from the moment all of them are running until every exit is reported. Median of ${p.reps} processes.${s.idle['node-child-process'] ? ' “Node child_process, no pty” runs the same children with Node’s own `child_process.spawn`, the output through a pipe: what a Node process pays to hear of these exits, whatever library it uses.' : ''}`)
    line()
    table(
      ['peer', 'parent CPU (ms)', '÷ napi-pty', '÷ C', 'wall (s)', 'CPU to start them (ms)', 'threads idle → peak'],
      peersOf('idle').map((k) => {
        const x = s.idle[k]
        if (!x) return [L(k), '—', '', '', '', '', '']
        const th = x.baseThreads === undefined ? '—' : `${x.baseThreads} → ${x.peakThreads}`
        return [L(k), f(x.cpuWindowMs, 1) + ok(x), r(x.cpuWindowMs, n?.cpuWindowMs), r(x.cpuWindowMs, c?.cpuWindowMs), f(x.wallMs / 1000, 2), f(x.cpuSpawnMs, 1), th]
      }),
    )
  }
  if (s.screen) {
    section('screen')
    const p = sc('screen')
    const x = s.screen
    line(`## ${p.title}`)
    line()
    line(`A child floods ${p.params.mib} MiB of text in the 256 colours (an SGR sequence per word); the parent reads the stream alone, then reads it and feeds a \`Screen\` (a headless xterm.js terminal that parses every byte), timed until the Screen has parsed the last one. Parent CPU is user + system, all threads. Median of ${p.reps} process${p.reps > 1 ? 'es' : ''}, each running both; the ratios are the medians of each process's own ratio.`)
    line()
    table(
      ['', 'wall (ms)', 'MiB/s', 'parent CPU (ms)'],
      [
        ['stream alone', f(x.streamMs, 0), f(x.bytes / MiB / (x.streamMs / 1000), 0), f(x.streamCpuMs, 0)],
        ['with a Screen', f(x.screenMs, 0), f(x.bytes / MiB / (x.screenMs / 1000), 0), f(x.screenCpuMs, 0)],
        [`Screen ÷ stream${ok(x)}`, `${f(x.wallRatio, 2)}×`, '', `${f(x.cpuRatio, 2)}×`],
      ],
    )
  }
  current = out
  for (const { key } of json.scenarios) out.push(...(sections[key] ?? []))
  for (const [issue, rows] of [
    [6, s.targets],
    [26, s.readTargets],
  ]) {
    if (!rows?.length) continue
    line(`## Targets of issue ${issue}, on this run's figures`)
    line()
    table(
      ['target', 'measured', 'met'],
      rows.map((t) => [t.target, t.measured + (t.note ? ` (${t.note})` : ''), t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**']),
    )
  }
  const failures = json.results.filter((x) => !x.ok)
  if (failures.length) {
    line(`## Failures`)
    line()
    for (const x of failures) {
      const v = x.variant?.gib !== undefined ? ` (${x.variant.gib} GiB)` : ''
      line(`- ${x.scenario}${v}, ${L(x.peer)}, rep ${x.rep + 1}: ${String(x.error).replace(/\n/g, ' ')}`)
    }
    line()
  }
  return out.join('\n')
}

module.exports = { summarize, markdown, median, p95 }
