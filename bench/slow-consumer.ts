/**
 * `npm run bench:slow-consumer`: does one stalled client slow the others or
 * grow the service's memory? On loopback, bounded in time (--max-minutes):
 *
 *   npm run bench:slow-consumer                                  # 200 clients, 10,000 events per phase at 200/s, A,B,A,B
 *   npm run bench:slow-consumer -- --clients 100 --events 5000 --rate 250 --rounds 1
 *   npm run bench:slow-consumer -- --pad 512 --hard-bytes 2097152 --soft-bytes 262144
 *
 * The service runs as a child process (`node --import tsx src/server.ts`);
 * K healthy clients run in another (bench/slow-consumer-client.ts) and time
 * the delivery of every event into an HdrHistogram. Each round has two
 * phases publishing the same events at the same fixed rate:
 *
 *   A  reference: only the healthy clients;
 *   B  plus one client that stops reading (its raw socket paused) before
 *      the first event of the phase.
 *
 * Per phase it reports the healthy clients' delivery p50/p99/max, the events
 * they received (must be all, without gaps), the service's RSS at the start
 * (after a GC), its peak (sampled every 50 ms) and the end (after a GC), the
 * stalled client's close code and reason (1013 `slow consumer` expected
 * once it is past SLOW_CONSUMER_HARD_BYTES), the `slow_consumer_closed`
 * counter of GET /api/ws/status, and p99(B)/p99(A). Phases alternate, so the
 * two A phases (and the two B phases) show the run's noise. Writes JSON to
 * bench/results/.
 *
 * The default rate (200/s) keeps a 2-core machine below saturation: at 500/s
 * with 200 clients and 2 KB events the service alone needs about 1.5 cores,
 * delivery falls behind by tens of seconds in both phases and the figures
 * measure that queue, not the stalled client. The 2 KB of padding gets the
 * stalled client past the default SLOW_CONSUMER_HARD_BYTES (8 MiB, plus a
 * few MiB that the loopback's kernel buffers take first) within 10,000 events.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import type { Socket } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { signToken } from '../src/auth/sign.js'
import { mergeEncoded, newHistogram, summarize, type Histogram, type Summary } from '../scripts/loadtest/histogram.js'
import { parseCli } from '../scripts/lib/cli.js'
import type { ClientCommand, ClientReport } from './slow-consumer-client.js'
import { freePort, rssBytes } from './process-stats.js'
import { SECRET, SERVICE_ENV } from './service-env.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')

const args = parseCli({
  name: 'bench:slow-consumer',
  command: 'npm run bench:slow-consumer --',
  summary: `Does one stalled client slow the others or grow the service's memory? Runs the service
and K healthy clients on loopback, in rounds of two phases at a fixed event rate: A (only the
healthy clients) and B (plus one client that stops reading). Reports delivery p50/p99/max,
gaps, the service's RSS and the stalled client's close; writes JSON to bench/results/.`,
  options: {
    clients: { type: 'integer', default: 200, min: 1, max: 10_000, help: 'healthy clients' },
    events: { type: 'integer', default: 10_000, min: 1, max: 1_000_000, help: 'events per phase' },
    rate: { type: 'integer', default: 200, min: 1, max: 20_000, help: 'events per second' },
    pad: { type: 'integer', default: 2048, min: 0, max: 60_000, help: 'bytes of padding per event' },
    rounds: { type: 'integer', default: 2, min: 1, max: 10, help: 'rounds of phases A and B' },
    warmup: { type: 'integer', default: 2000, min: 0, max: 1_000_000, help: 'events published before the first phase' },
    'hard-bytes': { type: 'integer', min: 2048, max: 4 * 1024 * 1024 * 1024, help: 'the service\'s SLOW_CONSUMER_HARD_BYTES (default: the service\'s)' },
    'soft-bytes': { type: 'integer', min: 1024, max: 1024 * 1024 * 1024, help: 'the service\'s SLOW_CONSUMER_SOFT_BYTES (default: the service\'s)' },
    'max-minutes': { type: 'integer', default: 10, min: 1, max: 120, help: 'stop everything after this long' },
    out: { type: 'string', arg: '<file.json>', help: 'where to write the JSON (default bench/results/slow-consumer-<time>.json)' }
  },
  examples: [
    'npm run bench:slow-consumer -- --clients 100 --events 5000 --rate 250 --rounds 1',
    'npm run bench:slow-consumer -- --pad 512 --hard-bytes 2097152 --soft-bytes 262144'
  ]
})
const clientCount = args.clients
const eventsPerPhase = args.events
const rate = args.rate
const pad = args.pad
const rounds = args.rounds
const warmup = args.warmup
const maxMinutes = args['max-minutes']

const wallNow = (): number => performance.timeOrigin + performance.now()
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

// ---- child processes, always cleaned up ------------------------------------

const children = new Set<ChildProcess>()
function killChildren (): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}
process.on('exit', killChildren)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the service and the clients`)
    killChildren()
    process.exit(130)
  })
}
const overall = setTimeout(() => {
  console.error(`gave up after --max-minutes ${maxMinutes}: stopping the service and the clients (raise --max-minutes for more rounds, events or a lower rate)`)
  killChildren()
  process.exit(1)
}, maxMinutes * 60_000)
overall.unref()

// ---- the service -----------------------------------------------------------


/** User + system CPU time of a process so far, in seconds (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}


const agent = new Agent({ keepAlive: true, maxSockets: 64 })
const publisherToken = signToken({ sub: 'bench-publisher', roles: ['publisher'] }, { key: SECRET, ttlMs: 3_600_000 })
const adminToken = signToken({ sub: 'bench-admin', roles: ['admin'] }, { key: SECRET, ttlMs: 3_600_000 })

async function httpCall (port: number, method: string, path: string, token?: string, body?: string): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const headers: Record<string, string> = {}
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const padding = 'x'.repeat(pad)
/** Publishes one camera event carrying its send time in data.t; resolves with its seq. */
async function publish (port: number): Promise<number> {
  const body = `{"camera_id":"cam-1","event_type":"motion","data":{"t":${wallNow()},"pad":"${padding}"}}`
  const reply = await httpCall(port, 'POST', '/api/events', publisherToken, body)
  if (reply.status !== 202) throw new Error(`publish answered ${reply.status}: ${reply.text}`)
  return (JSON.parse(reply.text) as { seq: number }).seq
}

async function slowConsumerClosed (port: number): Promise<number> {
  const reply = await httpCall(port, 'GET', '/api/ws/status', adminToken)
  if (reply.status !== 200) throw new Error(`/api/ws/status answered ${reply.status}: ${reply.text}`)
  return (JSON.parse(reply.text) as { slow_consumer_closed?: number }).slow_consumer_closed ?? NaN
}

const serviceEnv: Record<string, string> = {
  // No statistics pushes or heartbeats during the phases (SERVICE_ENV): the
  // stalled client must be closed by the outbound limits, not by a missed pong.
  ...SERVICE_ENV,
  // Live events flow at once, without waiting for a resume message.
  RESUME_GRACE_MS: '0',
  ...(args['hard-bytes'] === undefined ? {} : { SLOW_CONSUMER_HARD_BYTES: String(args['hard-bytes']) }),
  ...(args['soft-bytes'] === undefined ? {} : { SLOW_CONSUMER_SOFT_BYTES: String(args['soft-bytes']) })
}

async function startService (): Promise<{ child: ChildProcess, port: number }> {
  const port = await freePort()
  // gc-on-signal: SIGUSR2 runs a full GC, so start and end RSS are read after the same clean-up.
  const child = spawn(process.execPath, ['--expose-gc', '--import', join(here, 'targets/gc-on-signal.mjs'), '--import', 'tsx', join(root, 'src/server.ts')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...serviceEnv, PORT: String(port) }
  })
  children.add(child)
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      if ((await httpCall(port, 'GET', '/healthz')).status === 200) break
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the service did not start (its stderr is above)')
    await sleep(100)
  }
  return { child, port }
}

async function gcAndRss (pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2')
  await sleep(700)
  return rssBytes(pid)
}

// ---- the healthy clients ---------------------------------------------------

class Clients {
  readonly child: ChildProcess
  readonly #waiters: Array<{ ev: string, resolve: (report: ClientReport) => void }> = []

  constructor () {
    this.child = fork(join(here, 'slow-consumer-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.add(this.child)
    this.child.on('message', (report: ClientReport) => {
      const index = this.#waiters.findIndex(waiter => waiter.ev === report.ev)
      if (index >= 0) this.#waiters.splice(index, 1)[0].resolve(report)
    })
  }

  async ask<E extends ClientReport['ev']> (command: ClientCommand, ev: E): Promise<Extract<ClientReport, { ev: E }>> {
    const reply = new Promise<ClientReport>(resolve => this.#waiters.push({ ev, resolve }))
    this.child.send(command)
    return await reply as Extract<ClientReport, { ev: E }>
  }
}

// ---- the stalled client ----------------------------------------------------

interface Stalled { socket: WebSocket, received: number, closed: Promise<{ code: number, reason: string }> }

async function connectStalled (port: number): Promise<Stalled> {
  const token = signToken({ sub: 'stalled' }, { key: SECRET, ttlMs: 3_600_000 })
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/ws/statistics?token=${token}`, { perMessageDeflate: false })
  const stalled: Stalled = {
    socket,
    received: 0,
    closed: new Promise(resolve => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    socket.on('message', (data: Buffer) => {
      if (data.includes('"status":"connected"')) resolve()
      else if (data.includes('"type":"camera_event"')) stalled.received++
    })
    void stalled.closed.then(({ code }) => reject(new Error(`the stalled client was refused with ${code}`)))
  })
  return stalled
}

const rawSocket = (socket: WebSocket): Socket => (socket as unknown as { _socket: Socket })._socket

// ---- one phase -------------------------------------------------------------

interface PhaseResult {
  round: number
  phase: 'A' | 'B'
  published: number
  publishSeconds: number
  /** CPU seconds per wall second during the phase (1 = one core busy). */
  serviceCpu: number
  clientsCpu: number
  delivery: Summary
  histogram: string
  healthyReceived: number
  healthyExpected: number
  minPerClient: number
  gaps: number
  complete: boolean
  unexpectedCloses: number
  rssStart: number
  rssPeak: number
  rssEnd: number
  stalled?: { closeCode: number | null, closeReason: string, closedAfterEvents: number | null, receivedBeforeResume: number }
  slowConsumerClosed: number
}

async function runPhase (service: { child: ChildProcess, port: number }, clients: Clients, round: number, phase: 'A' | 'B', events = eventsPerPhase): Promise<PhaseResult> {
  const { port } = service
  const pid = service.child.pid!
  const closedBefore = await slowConsumerClosed(port)
  const rssStart = await gcAndRss(pid)
  const stalled = phase === 'B' ? await connectStalled(port) : undefined
  if (stalled !== undefined) rawSocket(stalled.socket).pause()
  await clients.ask({ cmd: 'phase-start' }, 'phase-started')

  let rssPeak = rssStart
  const rssTimer = setInterval(() => { rssPeak = Math.max(rssPeak, rssBytes(pid)) }, 50)
  // Both phases poll the status the same way; in B it shows when the stalled client was closed.
  let published = 0
  let closedAfterEvents: number | null = null
  let polling = true
  const poller = (async () => {
    while (polling) {
      const closed = await slowConsumerClosed(port)
      if (closed > closedBefore && closedAfterEvents === null) {
        closedAfterEvents = published
        // It reads again once the service has given up on it, as a dashboard
        // would after a stall: what is queued for it, then the close frame.
        // (Left paused for longer than ws's 30 s close timeout, the service
        // destroys the socket and the client sees 1006 instead.)
        if (stalled !== undefined) rawSocket(stalled.socket).resume()
      }
      await sleep(250)
    }
  })()

  const started = performance.now()
  const cpuStart = [cpuSeconds(pid), cpuSeconds(clients.child.pid!)]
  let lastSeq = 0
  const inFlight: Array<Promise<void>> = []
  // Open loop at a fixed rate: the schedule does not wait for the answers.
  while (published < events) {
    const due = Math.min(events, Math.floor((performance.now() - started) * rate / 1000) + 1)
    while (published < due) {
      published++
      inFlight.push(publish(port).then(seq => { lastSeq = Math.max(lastSeq, seq) }))
    }
    await sleep(Math.max(1, Math.min(10, 1000 / rate)))
  }
  await Promise.all(inFlight)
  const publishSeconds = (performance.now() - started) / 1000
  const report = await clients.ask({ cmd: 'phase-end', lastSeq, timeoutMs: 30_000 }, 'phase')
  const phaseSeconds = (performance.now() - started) / 1000
  const serviceCpu = (cpuSeconds(pid) - cpuStart[0]) / phaseSeconds
  const clientsCpu = (cpuSeconds(clients.child.pid!) - cpuStart[1]) / phaseSeconds
  polling = false
  await poller
  clearInterval(rssTimer)
  rssPeak = Math.max(rssPeak, rssBytes(pid))

  let stalledResult: PhaseResult['stalled']
  if (stalled !== undefined) {
    const closedByService = (await slowConsumerClosed(port)) > closedBefore
    if (closedByService && closedAfterEvents === null) closedAfterEvents = published
    const receivedBeforeResume = stalled.received
    rawSocket(stalled.socket).resume()
    const closed = closedByService ? await Promise.race([stalled.closed, sleep(35_000).then(() => null)]) : null
    if (closed === null) stalled.socket.terminate()
    stalledResult = { closeCode: closed?.code ?? null, closeReason: closed?.reason ?? '', closedAfterEvents, receivedBeforeResume }
  }
  const rssEnd = await gcAndRss(pid)
  const histogram = newHistogram()
  mergeEncoded(histogram, report.histogram)
  return {
    round,
    phase,
    published,
    publishSeconds,
    serviceCpu,
    clientsCpu,
    delivery: summarize(histogram),
    histogram: report.histogram,
    healthyReceived: report.received,
    healthyExpected: published * clientCount,
    minPerClient: report.minPerClient,
    gaps: report.gaps,
    complete: report.complete,
    unexpectedCloses: report.unexpectedCloses,
    rssStart,
    rssPeak,
    rssEnd,
    stalled: stalledResult,
    slowConsumerClosed: await slowConsumerClosed(port)
  }
}

// ---- report ----------------------------------------------------------------

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const ms = (value: number): string => `${value.toFixed(1)} ms`

function table (results: PhaseResult[]): string {
  const rows = [['round', 'phase', 'events/s', 'healthy got', 'gaps', 'p50', 'p99', 'max', 'p99 / A', 'RSS start', 'RSS peak', 'RSS end', 'CPU service/clients', 'stalled closed', 'slow_consumer_closed']]
  for (const r of results) {
    const reference = results.find(x => x.round === r.round && x.phase === 'A')
    rows.push([
      String(r.round),
      r.phase === 'A' ? 'A (reference)' : 'B (1 stalled)',
      `${Math.round(r.published / r.publishSeconds)}`,
      `${r.healthyReceived}/${r.healthyExpected}${r.complete ? '' : ' incomplete'}${r.unexpectedCloses > 0 ? ` (${r.unexpectedCloses} closed)` : ''}`,
      String(r.gaps),
      ms(r.delivery.p50),
      ms(r.delivery.p99),
      ms(r.delivery.max),
      reference === undefined ? '' : `${(r.delivery.p99 / reference.delivery.p99).toFixed(2)}×`,
      mib(r.rssStart),
      mib(r.rssPeak),
      mib(r.rssEnd),
      `${r.serviceCpu.toFixed(2)}/${r.clientsCpu.toFixed(2)}`,
      r.stalled === undefined ? '' : r.stalled.closeCode === null ? 'not closed' : `${r.stalled.closeCode} ${r.stalled.closeReason} (after ~${r.stalled.closedAfterEvents ?? '?'} events)`,
      String(r.slowConsumerClosed)
    ])
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map(row => row[c].length)))
  const line = (row: string[]): string => '| ' + row.map((cell, c) => cell.padEnd(widths[c])).join(' | ') + ' |'
  return [line(rows[0]), '|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n')
}

function merged (results: PhaseResult[], phase: 'A' | 'B'): Histogram {
  const histogram = newHistogram()
  for (const r of results) if (r.phase === phase) mergeEncoded(histogram, r.histogram)
  return histogram
}

// ---- main ------------------------------------------------------------------

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadavgAtStart: loadavg().map(x => Number(x.toFixed(2))) }
console.log(`bench:slow-consumer: ${clientCount} healthy clients, ${eventsPerPhase} events per phase at ${rate}/s with ${pad} bytes of padding, ${rounds} round(s) of A,B; ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}, load average ${machine.loadavgAtStart.join(' ')}`)
const results: PhaseResult[] = []
try {
  const service = await startService()
  const clients = new Clients()
  const connected = await clients.ask({ cmd: 'connect', url: `ws://127.0.0.1:${service.port}/api/ws/statistics`, count: clientCount, secret: SECRET }, 'connected')
  if (connected.failed > 0) throw new Error(`${connected.failed} of ${clientCount} healthy clients were refused`)
  console.log(`  service pid ${service.child.pid} on port ${service.port}; ${connected.opened} healthy clients connected`)
  await sleep(1000)
  if (warmup > 0) {
    // JIT and buffers warm up on the same path before anything is measured.
    process.stdout.write(`  warm-up (${warmup} events, not counted) … `)
    const result = await runPhase(service, clients, 0, 'A', warmup)
    console.log(`p99 ${ms(result.delivery.p99)}`)
    await sleep(1000)
  }
  for (let round = 1; round <= rounds; round++) {
    for (const phase of ['A', 'B'] as const) {
      process.stdout.write(`  round ${round} phase ${phase} … `)
      const result = await runPhase(service, clients, round, phase)
      results.push(result)
      console.log(`p99 ${ms(result.delivery.p99)}, healthy got ${result.healthyReceived}/${result.healthyExpected}, RSS peak ${mib(result.rssPeak)}${result.stalled === undefined ? '' : `, stalled client closed ${result.stalled.closeCode ?? 'never'} ${result.stalled.closeReason}`}`)
      await sleep(1000)
    }
  }
} catch (err) {
  console.error(`bench:slow-consumer failed: ${(err as Error).message}`)
  killChildren()
  process.exit(1)
}
killChildren()
agent.destroy()

const a = summarize(merged(results, 'A'))
const b = summarize(merged(results, 'B'))
const output = table(results)
const ratio = b.p99 / a.p99
const aP99s = results.filter(r => r.phase === 'A').map(r => r.delivery.p99)
const noise = aP99s.length > 1 ? Math.max(...aP99s) / Math.min(...aP99s) : null
const loadavgAtEnd = loadavg().map(x => Number(x.toFixed(2)))
console.log('\n' + output)
console.log(`\nall A phases: p50 ${ms(a.p50)}, p99 ${ms(a.p99)}, max ${ms(a.max)}; all B phases: p50 ${ms(b.p50)}, p99 ${ms(b.p99)}, max ${ms(b.max)}`)
console.log(`p99(B)/p99(A) = ${ratio.toFixed(2)}${noise === null ? '' : `; between the A phases alone the p99 differs by ${noise.toFixed(2)}× (noise)`}`)
console.log(`load average at the end: ${loadavgAtEnd.join(' ')}`)
mkdirSync(join(here, 'results'), { recursive: true })
const out = args.out ?? join(here, 'results', `slow-consumer-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(out, JSON.stringify({
  date: new Date().toISOString(),
  machine: { ...machine, loadavgAtEnd },
  settings: { clients: clientCount, eventsPerPhase, rate, pad, rounds, serviceEnv: { ...serviceEnv, JWT_SECRET: '(bench secret)' } },
  results: results.map(({ histogram, ...rest }) => rest),
  overall: { a, b, p99Ratio: ratio, aNoise: noise },
  table: output
}, null, 2))
console.log(`results written to ${out}`)
