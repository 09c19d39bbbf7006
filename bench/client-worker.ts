/**
 * A benchmark client process, forked by bench/run.ts and driven over IPC.
 * It opens WebSocket connections to one target, speaking either the JSON
 * protocol of the service and the ws reference, or socket.io's engine.io
 * framing over a plain `ws` socket (so every target is measured with the
 * same client code and the same client-side cost).
 *
 * Latencies are wall-clock: the publisher puts its send time in `data.t`
 * (performance.timeOrigin + performance.now(), sub-millisecond and shared by
 * every process on the machine).
 */
import WebSocket from 'ws'
import { signToken } from '../src/auth/sign.js'

export type Dialect = 'json' | 'socketio'

export type Command =
  /**
   * `scopes` > 0 (JSON dialect only): the socket at global index i (userOffset
   * + its index here) gets a token with `cameras: ["site-<i mod scopes>/*"]`;
   * `camera` is the camera the runner will publish for, to count the admitted.
   */
  | { cmd: 'connect', dialect: Dialect, url: string, count: number, users: number, userOffset: number, secret: string, concurrency: number, localAddress?: string, scopes?: number, camera?: string, deflate?: boolean }
  | { cmd: 'sample', keep: number }
  | { cmd: 'ping-start', intervalMs: number }
  | { cmd: 'ping-stop' }
  | { cmd: 'count' }
  /** Closes every socket with a close handshake; answers `closed` once the server has acknowledged each. */
  | { cmd: 'close' }
  | { cmd: 'exit' }

export type Report =
  /** `admitted`: how many of the opened sockets the connect command's `camera` admits (all without scopes). */
  | { ev: 'connected', opened: number, failed: number, failures: Record<string, number>, startedAt: number, endedAt: number, admitted: number }
  | { ev: 'event', seq: number, latencies: number[] }
  | { ev: 'lat', latencies: number[], lowestLastSeq: number }
  | { ev: 'ping', rtts: number[] }
  /**
   * `strays`: per seq, deliveries to sockets whose scope does not admit the
   * camera; `partial`: per seq never complete, how many admitted sockets got it.
   */
  | { ev: 'held', open: number, strays: Record<string, number>, partial: Record<string, number> }
  | { ev: 'closed', count: number }

const wallNow = (): number => performance.timeOrigin + performance.now()
const send = (report: Report): void => { process.send?.(report) }

let dialect: Dialect = 'json'
const tokens = new Map<number, string>()
const sockets: WebSocket[] = []
/** Per seq, the latencies seen so far by every socket (fan-out mode). */
const pending = new Map<number, number[]>()
let sampleMode = false
let sampleLatencies: number[] = []
let lastSeq: number[] = []
/** Per socket index (with scopes): the prefix its token's `cameras` claim admits, `site-<j>/`. */
const prefixes: string[] = []
let scoped = false
/** Per seq, deliveries to sockets not admitted (fan-out mode); at most one entry per broadcast. */
const strays = new Map<number, number>()
/** Per camera id, how many open sockets admit it; the runner publishes for one camera. */
const admittedBy = new Map<string, number>()

/**
 * Whether socket `index` may receive an event of this camera: the benchmark's
 * own prefix test, not the service's CameraScope, so a bug there shows as a stray.
 */
function admits (index: number, cameraId: string | undefined): boolean {
  return !scoped || cameraId === undefined || cameraId.startsWith(prefixes[index])
}

function admittedCount (cameraId: string | undefined): number {
  if (!scoped || cameraId === undefined) return sockets.length
  let count = admittedBy.get(cameraId)
  if (count === undefined) {
    count = 0
    for (const socket of sockets) if (admits((socket as WebSocket & { index: number }).index, cameraId)) count++
    if (admittedBy.size >= 100) admittedBy.clear()
    admittedBy.set(cameraId, count)
  }
  return count
}

function onEvent (index: number, message: { seq: number, camera_id?: string, data?: { t?: number } }): void {
  const latency = wallNow() - (message.data?.t ?? NaN)
  if (sampleMode) {
    sampleLatencies.push(latency)
    lastSeq[index] = message.seq
    return
  }
  if (!admits(index, message.camera_id)) {
    strays.set(message.seq, (strays.get(message.seq) ?? 0) + 1)
    return
  }
  let list = pending.get(message.seq)
  if (list === undefined) pending.set(message.seq, list = [])
  list.push(latency)
  if (list.length === admittedCount(message.camera_id)) {
    pending.delete(message.seq)
    send({ ev: 'event', seq: message.seq, latencies: list })
  }
}

function handleText (index: number, socket: WebSocket, text: string, onReady: () => void, onPong: (id: string) => void): void {
  if (dialect === 'json') {
    if (text.startsWith('{"type":"camera_event"')) { onEvent(index, JSON.parse(text)); return }
    const message = JSON.parse(text) as { type: string, status?: string, echo?: string }
    if (message.type === 'connection_status' && message.status === 'connected') onReady()
    else if (message.type === 'pong' && typeof message.echo === 'string') onPong(message.echo)
    return
  }
  // engine.io over websocket: 0 open, 2 ping, 4 message; socket.io inside: 0 connect, 2 event, 3 ack.
  if (text.startsWith('42')) {
    const [name, message] = JSON.parse(text.slice(2)) as [string, { seq: number, camera_id?: string, data?: { t?: number } }]
    if (name === 'camera_event') onEvent(index, message)
  } else if (text === '2') {
    socket.send('3')
  } else if (text.startsWith('0')) {
    socket.send('40' + JSON.stringify({ token: (socket as WebSocket & { token: string }).token }))
  } else if (text.startsWith('40')) {
    onReady()
  } else if (text.startsWith('43')) {
    const match = /^43(\d+)/.exec(text)
    if (match !== null) onPong(match[1])
  } else if (text.startsWith('44')) {
    socket.close(4401, 'refused')
  }
}

let pingTimes = new Map<string, number>()
let rtts: number[] = []
function onPong (id: string): void {
  const sent = pingTimes.get(id)
  if (sent === undefined) return
  pingTimes.delete(id)
  rtts.push(performance.now() - sent)
}

async function connect (command: Extract<Command, { cmd: 'connect' }>): Promise<void> {
  dialect = command.dialect
  const scopes = command.scopes ?? 0
  scoped = scopes > 0
  const failures: Record<string, number> = {}
  let opened = 0
  let failed = 0
  let next = 0
  const startedAt = wallNow()
  const openOne = async (): Promise<void> => {
    const index = next++
    const user = (command.userOffset + index) % command.users
    const scope = scoped ? (command.userOffset + index) % scopes : -1
    if (scoped) prefixes[index] = `site-${scope}/`
    // Signing is slow next to a handshake: one token per user (and scope), signed once.
    const key = scoped ? user * scopes + scope : user
    let token = tokens.get(key)
    if (token === undefined) {
      tokens.set(key, token = signToken({ sub: `bench-${user}`, ...(scoped ? { cameras: [`site-${scope}/*`] } : {}) }, { key: command.secret, ttlMs: 6 * 3_600_000 }))
    }
    const url = command.dialect === 'json' ? `${command.url}?token=${token}` : command.url
    // `deflate`: offer permessage-deflate, as browsers do (--compression).
    const socket = new WebSocket(url, { perMessageDeflate: command.deflate === true, ...(command.localAddress === undefined ? {} : { localAddress: command.localAddress }) }) as WebSocket & { token: string, index: number }
    socket.token = token
    socket.index = index
    await new Promise<void>(resolve => {
      let ready = false
      socket.on('message', (data: Buffer) => {
        handleText(index, socket, data.toString(), () => {
          if (ready) return
          ready = true
          opened++
          sockets[index] = socket
          resolve()
        }, onPong)
      })
      // Why a handshake broke without a close frame: an HTTP status or a socket error code.
      let cause = ''
      socket.on('error', (err: Error & { code?: string }) => { cause = err.code ?? err.message.replace(/^Unexpected server response: /, 'HTTP ') })
      socket.on('close', (code) => {
        if (!ready) {
          failed++
          const key = cause === '' ? String(code) : `${code} ${cause}`
          failures[key] = (failures[key] ?? 0) + 1
          resolve()
        }
      })
    })
  }
  const lanes: Array<Promise<void>> = []
  for (let lane = 0; lane < command.concurrency; lane++) {
    lanes.push((async () => { while (next < command.count) await openOne() })())
  }
  await Promise.all(lanes)
  // Sockets that failed leave holes; keep the array dense for counting.
  for (let i = sockets.length - 1; i >= 0; i--) if (sockets[i] === undefined) sockets.splice(i, 1)
  send({ ev: 'connected', opened, failed, failures, startedAt, endedAt: wallNow(), admitted: admittedCount(command.camera) })
}

/**
 * Sustained mode: only the first `keep` sockets still parse frames and
 * measure; the others read and discard bytes, so that client processes on
 * a 2-core machine do not become the bottleneck being measured.
 */
function sample (keep: number): void {
  sampleMode = true
  lastSeq = new Array<number>(Math.min(keep, sockets.length)).fill(0)
  for (let i = keep; i < sockets.length; i++) {
    const raw = (sockets[i] as unknown as { _socket: NodeJS.ReadableStream & { removeAllListeners (e: string): void } })._socket
    raw.removeAllListeners('data')
    raw.on('data', () => {})
  }
  setInterval(() => {
    const latencies = sampleLatencies
    sampleLatencies = []
    send({ ev: 'lat', latencies, lowestLastSeq: Math.min(...lastSeq) })
  }, 100)
}

async function closeAll (): Promise<void> {
  const open = sockets.filter(socket => socket.readyState === WebSocket.OPEN)
  await Promise.all(open.map(async socket => {
    await new Promise<void>(resolve => {
      socket.once('close', () => { resolve() })
      socket.close(1000)
    })
  }))
  sockets.length = 0
  send({ ev: 'closed', count: open.length })
}

let pingTimer: NodeJS.Timeout | undefined
let pingId = 0
function pingStart (intervalMs: number): void {
  rtts = []
  pingTimes = new Map()
  const socket = sockets[0]
  pingTimer = setInterval(() => {
    const id = String(++pingId)
    pingTimes.set(id, performance.now())
    if (dialect === 'json') socket.send(`{"type":"ping","timestamp":"${id}"}`)
    else socket.send(`42${id}["ping_app",${id}]`)
  }, intervalMs)
}

process.on('message', (command: Command) => {
  switch (command.cmd) {
    case 'connect': void connect(command); break
    case 'sample': sample(command.keep); break
    case 'ping-start': pingStart(command.intervalMs); break
    case 'ping-stop':
      clearInterval(pingTimer)
      send({ ev: 'ping', rtts })
      break
    case 'count':
      // How many of the sockets this process opened are still open.
      send({
        ev: 'held',
        open: sockets.filter(socket => socket.readyState === WebSocket.OPEN).length,
        strays: Object.fromEntries(strays),
        partial: Object.fromEntries([...pending].map(([seq, list]) => [seq, list.length]))
      })
      break
    case 'close': void closeAll(); break
    case 'exit': process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))
// Ctrl-C in the terminal reaches every process of its group: the runner decides
// when to stop (after the current measurement) and ends this process itself.
process.on('SIGINT', () => {})
