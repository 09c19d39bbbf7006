/**
 * The healthy clients of `npm run bench:slow-consumer`, in a process of
 * their own (forked by bench/slow-consumer.ts, driven over IPC), so that
 * reading and timing their messages does not share an event loop with the
 * publisher. Each client has its own user and records the delivery latency
 * of every camera_event (now − `data.t`, the publisher's send time) into one
 * HdrHistogram per phase; per client it counts events and gaps in `seq`.
 */
import WebSocket from 'ws'
import { signToken } from '../src/auth/sign.js'
import { encode, newHistogram, recordMs } from '../scripts/loadtest/histogram.js'

export type ClientCommand =
  | { cmd: 'connect', url: string, count: number, secret: string }
  | { cmd: 'phase-start' }
  | { cmd: 'phase-end', lastSeq: number, timeoutMs: number }

export type ClientReport =
  | { ev: 'connected', opened: number, failed: number }
  | { ev: 'phase-started' }
  | { ev: 'phase', histogram: string, received: number, minPerClient: number, maxPerClient: number, gaps: number, complete: boolean, unexpectedCloses: number }

const wallNow = (): number => performance.timeOrigin + performance.now()
const send = (report: ClientReport): void => { process.send?.(report) }
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

interface Client { socket: WebSocket, received: number, lastSeq: number, gaps: number }

const clients: Client[] = []
let histogram = newHistogram()
let unexpectedCloses = 0
let closing = false

const SEQ = /^\{"type":"camera_event".{0,80}?"seq":(\d+)/

/**
 * Reads seq and data.t without JSON.parse: 200 clients × 500 events/s of
 * 2 KB each would otherwise spend this process's core on parsing and make
 * the client, not the service, the thing being measured.
 */
function onMessage (client: Client, data: Buffer): void {
  const text = data.toString('latin1', 0, Math.min(data.length, 256))
  const match = SEQ.exec(text)
  if (match === null) return
  const latency = wallNow() - tOf(data)
  const seq = Number(match[1])
  if (client.lastSeq > 0 && seq !== client.lastSeq + 1) client.gaps++
  client.lastSeq = seq
  client.received++
  recordMs(histogram, latency)
}

function tOf (data: Buffer): number {
  const at = data.indexOf('"data":{"t":')
  if (at < 0) return NaN
  const start = at + 12
  let end = start
  while (end < data.length && end < start + 32 && data[end] !== 0x2c && data[end] !== 0x7d) end++
  return Number(data.toString('latin1', start, end))
}

async function connect (command: Extract<ClientCommand, { cmd: 'connect' }>): Promise<void> {
  let opened = 0
  let failed = 0
  await Promise.all(Array.from({ length: command.count }, async (_, index) => {
    const token = signToken({ sub: `healthy-${index}` }, { key: command.secret, ttlMs: 3_600_000 })
    const socket = new WebSocket(`${command.url}?token=${token}`, { perMessageDeflate: false })
    const client: Client = { socket, received: 0, lastSeq: 0, gaps: 0 }
    await new Promise<void>(resolve => {
      let ready = false
      socket.on('message', (data: Buffer) => {
        if (ready) { onMessage(client, data); return }
        if (data.includes('"status":"connected"')) {
          ready = true
          opened++
          clients.push(client)
          resolve()
        }
      })
      socket.on('error', () => {})
      socket.on('close', () => {
        if (!ready) { failed++; resolve() } else if (!closing) unexpectedCloses++
      })
    })
  }))
  send({ ev: 'connected', opened, failed })
}

function phaseStart (): void {
  histogram = newHistogram()
  for (const client of clients) { client.received = 0; client.gaps = 0 }
  send({ ev: 'phase-started' })
}

async function phaseEnd (lastSeq: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (clients.some(c => c.lastSeq < lastSeq) && Date.now() < deadline) await sleep(20)
  const counts = clients.map(c => c.received)
  send({
    ev: 'phase',
    histogram: encode(histogram),
    received: counts.reduce((a, b) => a + b, 0),
    minPerClient: Math.min(...counts),
    maxPerClient: Math.max(...counts),
    gaps: clients.reduce((sum, c) => sum + c.gaps, 0),
    complete: clients.every(c => c.lastSeq >= lastSeq),
    unexpectedCloses
  })
}

process.on('message', (command: ClientCommand) => {
  switch (command.cmd) {
    case 'connect': void connect(command); break
    case 'phase-start': phaseStart(); break
    case 'phase-end': void phaseEnd(command.lastSeq, command.timeoutMs); break
  }
})
// The runner decides when to stop (Ctrl-C reaches the whole process group).
process.on('SIGINT', () => {})
process.on('disconnect', () => { closing = true; process.exit(0) })
