/**
 * A load-test worker process: opens its share of the sockets (at most
 * ~19,000 per process, the open-file limit), spread over the local
 * addresses it is given, and measures what its sockets see. Driven by
 * scripts/loadtest.ts over IPC.
 */
import WebSocket from 'ws'
import { encode, newHistogram, recordMs } from './histogram.js'
import type { FromWorker, ToWorker } from './protocol.js'

const wallNow = (): number => performance.timeOrigin + performance.now()
const send = (message: FromWorker): void => { process.send?.(message) }

const connect = newHistogram()
const firstMessage = newHistogram()
const delivery = newHistogram()
const failures: Record<string, number> = {}
const closes: Record<string, number> = {}
const sockets = new Set<WebSocket>()
/** Sockets this worker started to open. */
let launched = 0
let opened = 0
let failed = 0
let received = 0
let delivered = 0
let missing = 0
let stopping = false
let runId = ''

// The terminal sends Ctrl-C to the whole process group: the main process
// decides when to stop, so the worker can still report what it measured.
process.on('SIGINT', () => {})

function open (url: string, token: string, localAddress: string, localPort: number): void {
  launched++
  const started = performance.now()
  const socket = new WebSocket(`${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`, { perMessageDeflate: false, localAddress, ...(localPort > 0 ? { localPort } : {}) })
  let isOpen = false
  let refused = false
  let gotFirst = false
  let lastSeq = 0
  socket.on('open', () => {
    sockets.add(socket)
    recordMs(connect, performance.now() - started)
  })
  socket.on('message', (data: Buffer) => {
    received++
    if (!gotFirst) {
      // The service refuses after the upgrade (4401, 1008…): a connection
      // counts as opened once it is served, i.e. with its first message.
      gotFirst = true
      isOpen = true
      opened++
      recordMs(firstMessage, performance.now() - started)
    }
    // Only sequenced messages carry "seq"; parse those, skip the rest cheaply.
    if (data.indexOf('"seq":') < 0) return
    let message: { seq?: number, data?: { t?: number, run?: string } }
    try {
      message = JSON.parse(data.toString())
    } catch {
      return
    }
    if (typeof message.seq !== 'number') return
    if (lastSeq > 0 && message.seq > lastSeq + 1) missing += message.seq - lastSeq - 1
    if (message.seq > lastSeq) lastSeq = message.seq
    if (message.data?.run === runId && typeof message.data.t === 'number') {
      delivered++
      recordMs(delivery, wallNow() - message.data.t)
    }
  })
  socket.on('error', () => {})
  socket.on('close', (code) => {
    sockets.delete(socket)
    if (refused) return
    if (!isOpen) {
      failed++
      failures[String(code)] = (failures[String(code)] ?? 0) + 1
    } else if (!stopping) {
      closes[String(code)] = (closes[String(code)] ?? 0) + 1
    }
  })
  // An HTTP refusal of the upgrade (e.g. 429 from the handshake rate limit)
  // is counted by status and the body's `code` (PUSH_AT_CAPACITY…), which
  // tell the hints which setting to name. The body is small; 1 s at most.
  socket.once('unexpected-response', (_request, response) => {
    refused = true
    let body = ''
    let counted = false
    const count = (): void => {
      if (counted) return
      counted = true
      clearTimeout(timer)
      let code = ''
      try {
        const parsed = JSON.parse(body) as { code?: unknown }
        if (typeof parsed.code === 'string' && /^[A-Z_]{1,64}$/.test(parsed.code)) code = ` ${parsed.code}`
      } catch {}
      const key = `HTTP ${response.statusCode ?? '?'}${code}`
      failed++
      failures[key] = (failures[key] ?? 0) + 1
      socket.terminate()
    }
    const timer = setTimeout(count, 1000)
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => { if (body.length < 4096) body += chunk })
    response.once('end', count)
    response.once('error', count)
    response.once('close', count)
  })
}

function start (command: Extract<ToWorker, { cmd: 'start' }>): void {
  runId = command.runId
  const plan: Array<[address: string, port: number]> = []
  for (const assignment of command.assignments) {
    for (let i = 0; i < assignment.count; i++) plan.push([assignment.localAddress, assignment.firstPort > 0 ? assignment.firstPort + i : 0])
  }
  let next = 0
  const began = performance.now()
  const tick = (): void => {
    if (stopping) return
    const due = Math.min(plan.length, Math.floor((performance.now() - began) * command.ramp / 1000) + 1)
    while (next < due) {
      open(command.url, command.tokens[(command.offset + next) % command.tokens.length], plan[next][0], plan[next][1])
      next++
    }
    if (next < plan.length) setTimeout(tick, 10)
  }
  tick()
}

const progress = setInterval(() => {
  send({ ev: 'progress', opened, failed, open: sockets.size, received, delivered })
}, 250)

async function stop (): Promise<void> {
  stopping = true
  clearInterval(progress)
  // The figures are final now, and sent before the sockets close: closing
  // thousands of them on a saturated machine can take longer than the main
  // process waits. A socket still opening did not open within the run.
  const connecting = launched - opened - failed
  if (connecting > 0) {
    failed += connecting
    failures['still connecting at the end'] = (failures['still connecting at the end'] ?? 0) + connecting
  }
  send({
    ev: 'report',
    opened,
    failed,
    failures,
    closes,
    received,
    delivered,
    missing,
    connect: encode(connect),
    firstMessage: encode(firstMessage),
    delivery: encode(delivery)
  })
  const closing = [...sockets].map(async socket => await new Promise<void>(resolve => {
    socket.once('close', () => resolve())
    socket.close(1000, 'load test finished')
    setTimeout(() => { socket.terminate(); resolve() }, 2000).unref()
  }))
  await Promise.all(closing)
  process.disconnect?.()
}

process.on('message', (command: ToWorker) => {
  if (command.cmd === 'start') start(command)
  else void stop()
})
process.on('disconnect', () => process.exit(0))
