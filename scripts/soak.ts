/**
 * Soak test: runs the real service in a child process on 127.0.0.1 and keeps
 * many WebSocket clients on it for a while, with churn (clients dropping and
 * resuming with last_seq), steady publishing and clients that stall (stop
 * reading for a while). Reports the service's RSS over time, events lost
 * (must be 0 for every client that stayed or resumed), duplicates,
 * reordering and unexpected closes. Exits 1 when any of those is not 0.
 *
 *   npm run soak -- --connections 2000 --minutes 10
 *   npm run soak -- --connections 300 --minutes 1      (the CI version)
 *
 * `npm run soak -- --help` lists the options (--connections, --minutes,
 * --rate, --churn, --stall) with their ranges.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import { signToken } from '../src/auth/sign.js'
import { parseCli } from './lib/cli.js'

const values = parseCli({
  name: 'soak',
  command: 'npm run soak --',
  summary: `Runs the service on 127.0.0.1 in a child process and keeps many WebSocket clients
on it with churn, steady publishing and stalled clients; reports the service's RSS
over time and exits 1 when any event is lost, duplicated or reordered, a publish
fails or a connection closes unexpectedly.`,
  options: {
    connections: { type: 'integer', default: 2000, min: 1, max: 9000, help: 'WebSocket clients' },
    minutes: { type: 'number', default: 10, min: 0.1, max: 60, help: 'how long to publish (fractions allowed)' },
    rate: { type: 'number', default: 20, min: 1, max: 2000, help: 'events published per second' },
    churn: { type: 'number', default: 0.005, min: 0, max: 0.2, help: 'fraction of clients dropped (and resumed) per second' },
    stall: { type: 'number', default: 0.01, min: 0, max: 0.2, help: 'fraction of clients not reading at any time' }
  },
  examples: ['npm run soak -- --connections 2000 --minutes 10', 'npm run soak -- --connections 300 --minutes 1      (the CI version)']
})
const CONNECTIONS = values.connections
const DURATION_MS = values.minutes * 60_000
const RATE = values.rate
const CHURN = values.churn
const STALL = values.stall
const HOST = '127.0.0.1' // loopback only, always
const SECRET = randomBytes(32).toString('hex')
/** After publishing stops, clients have this long to catch up. */
const SETTLE_MS = 30_000

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, HOST, () => {
      const address = probe.address()
      probe.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

function rssMiB (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? 0 : Math.round(Number(match[1]) / 1024)
}

interface Stats {
  delivered: number
  lost: number
  duplicates: number
  resyncs: number
  reconnects: number
  stalls: number
  churned: number
  unexpectedCloses: Map<string, number>
  slowConsumerCloses: number
}
const stats: Stats = { delivered: 0, lost: 0, duplicates: 0, resyncs: 0, reconnects: 0, stalls: 0, churned: 0, unexpectedCloses: new Map(), slowConsumerCloses: 0 }

/**
 * One dashboard. It checks that the seqs it receives are consecutive from
 * the first one it saw; after a drop it reconnects with last_seq and expects
 * the replay to fill the gap exactly.
 */
class SoakClient {
  readonly user: string
  ws: WebSocket | null = null
  lastSeq: number | null = null
  stalled = false
  stopped = false

  constructor (readonly index: number, readonly wsUrl: string) {
    this.user = `soak-${index}`
  }

  async open (): Promise<void> {
    const token = signToken({ sub: this.user }, { key: SECRET, ttlMs: 3_600_000 })
    const url = `${this.wsUrl}?token=${token}${this.lastSeq === null ? '' : `&last_seq=${this.lastSeq}`}`
    const ws = new WebSocket(url)
    this.ws = ws
    // Only the current socket counts: a socket being closed by churn may
    // still deliver a message or two, which the resumed one also replays.
    ws.on('message', data => { if (ws === this.ws) this.#receive(JSON.parse(data.toString()) as Record<string, unknown>) })
    ws.on('error', () => {})
    ws.on('close', (code, reason) => { if (ws === this.ws) this.#closed(code, reason.toString()) })
    await new Promise<void>((resolve) => {
      ws.once('open', () => { resolve() })
      ws.once('close', () => { resolve() })
    })
  }

  #receive (message: Record<string, unknown>): void {
    if (message.type === 'connection_status' && message.status === 'resync_required') {
      stats.resyncs++
      this.lastSeq = null
      return
    }
    if (message.type !== 'camera_event') return
    const seq = message.seq as number
    stats.delivered++
    if (this.lastSeq === null) {
      this.lastSeq = seq
      return
    }
    if (seq <= this.lastSeq) {
      stats.duplicates++
      return
    }
    if (seq > this.lastSeq + 1) stats.lost += seq - this.lastSeq - 1
    this.lastSeq = seq
  }

  #closed (code: number, reason: string): void {
    this.ws = null
    if (this.stopped) return
    if (code === 1013) {
      stats.slowConsumerCloses++
    } else {
      const key = `${code} ${reason}`
      stats.unexpectedCloses.set(key, (stats.unexpectedCloses.get(key) ?? 0) + 1)
    }
    this.stalled = false
    stats.reconnects++
    setTimeout(() => { void this.open() }, 100 + Math.random() * 900)
  }

  /** Drops the connection (clean close or abrupt) and resumes after a short pause. */
  churn (): void {
    const ws = this.ws
    if (ws === null || this.stalled || ws.readyState !== WebSocket.OPEN) return
    this.ws = null // its close is expected; churn reconnects on its own schedule
    stats.churned++
    if (Math.random() < 0.5) ws.close(1000, 'churn')
    else ws.terminate()
    setTimeout(() => {
      if (this.stopped) return
      stats.reconnects++
      void this.open()
    }, Math.random() * 2000)
  }

  /** Stops reading for a while, like a frozen tab, then reads again. */
  stall (ms: number): void {
    const socket = (this.ws as unknown as { _socket?: { pause: () => void, resume: () => void } | null } | null)?._socket
    if (socket === undefined || socket === null || this.stalled) return
    this.stalled = true
    stats.stalls++
    socket.pause()
    setTimeout(() => {
      this.stalled = false
      socket.resume()
    }, ms)
  }

  stop (): void {
    this.stopped = true
    this.ws?.terminate()
  }
}

async function main (): Promise<void> {
  const port = await freePort()
  const base = `http://${HOST}:${port}`
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST,
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      WS_CONNECT_RATE_LIMIT_PER_MINUTE: '0',
      HTTP_RATE_LIMIT_PER_MINUTE: '0',
      STATS_INTERVAL_MS: '1000',
      MAX_CONNECTIONS_PER_USER: '10'
    },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const killServer = (): void => { server.kill('SIGKILL') }
  process.once('exit', killServer)
  process.once('SIGINT', () => { process.exit(130) })

  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break
    } catch {}
    if (i > 300) throw new Error('the service did not start within 30 s')
    await sleep(100)
  }
  const wsUrl = `ws://${HOST}:${port}/api/ws/statistics`
  const clients = Array.from({ length: CONNECTIONS }, (_, i) => new SoakClient(i, wsUrl))
  const rss: Array<{ second: number, mib: number, connections: number }> = []
  const started = Date.now()
  const sample = (): void => {
    rss.push({ second: Math.round((Date.now() - started) / 1000), mib: rssMiB(server.pid!), connections: clients.filter(c => c.ws?.readyState === WebSocket.OPEN).length })
  }
  sample()

  console.log(`soak: ${CONNECTIONS} connections for ${DURATION_MS / 60_000} min, ${RATE} events/s, churn ${CHURN}/s, stall ${STALL} on ${base}`)
  for (let i = 0; i < clients.length; i += 200) await Promise.all(clients.slice(i, i + 200).map(async c => { await c.open() }))
  sample()
  console.log(`soak: ${rss[rss.length - 1].connections} connected, server RSS ${rss[rss.length - 1].mib} MiB`)

  const publisherToken = signToken({ sub: 'soak-publisher', roles: ['publisher'] }, { key: SECRET, ttlMs: 3_600_000 })
  let published = 0
  let lastPublished = 0
  let publishFailures = 0
  const endAt = Date.now() + DURATION_MS
  const publisher = (async () => {
    const interval = 1000 / RATE
    let next = Date.now()
    while (Date.now() < endAt) {
      try {
        const response = await fetch(`${base}/api/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherToken}` },
          body: JSON.stringify({ camera_id: `cam-${published % 50}`, event_type: 'motion', data: { n: published } })
        })
        const body = await response.json() as { seq?: number }
        if (response.status === 202 && typeof body.seq === 'number') {
          published++
          lastPublished = Math.max(lastPublished, body.seq)
        } else publishFailures++
      } catch { publishFailures++ }
      next += interval
      const wait = next - Date.now()
      if (wait > 0) await sleep(wait)
      else next = Date.now()
    }
  })()

  const churnPerSecond = CONNECTIONS * CHURN
  let churnCredit = 0
  const ticker = setInterval(() => {
    churnCredit += churnPerSecond
    while (churnCredit >= 1) {
      churnCredit--
      clients[Math.floor(Math.random() * clients.length)].churn()
    }
    const stalledNow = clients.filter(c => c.stalled).length
    const wanted = Math.round(CONNECTIONS * STALL)
    for (let i = stalledNow; i < wanted; i++) clients[Math.floor(Math.random() * clients.length)].stall(5000 + Math.random() * 10_000)
  }, 1000)
  const sampleEvery = Math.max(5000, DURATION_MS / 20)
  const sampler = setInterval(() => {
    sample()
    const last = rss[rss.length - 1]
    console.log(`soak: t=${last.second}s connections=${last.connections} published=${published} delivered=${stats.delivered} rss=${last.mib}MiB lost=${stats.lost} dup=${stats.duplicates} reconnects=${stats.reconnects}`)
  }, sampleEvery)

  await publisher
  clearInterval(ticker)
  // Let every client catch up: stalled ones resume reading, dropped ones resume.
  const settleBy = Date.now() + SETTLE_MS
  const behind = (): SoakClient[] => clients.filter(c => c.lastSeq !== null && c.lastSeq < lastPublished)
  while (behind().length > 0 && Date.now() < settleBy) await sleep(200)
  clearInterval(sampler)
  sample()

  const stragglers = behind()
  let notCaughtUp = 0
  for (const client of stragglers) notCaughtUp += lastPublished - (client.lastSeq ?? lastPublished)
  for (const client of clients) client.stop()
  killServer()

  const unexpected = [...stats.unexpectedCloses.values()].reduce((a, b) => a + b, 0)
  const mibs = rss.map(r => r.mib)
  console.log('\nsoak: RSS of the service over time (s → MiB, open connections)')
  for (const r of rss) console.log(`  ${String(r.second).padStart(5)} s  ${String(r.mib).padStart(5)} MiB  ${r.connections}`)
  const report = {
    connections: CONNECTIONS,
    minutes: DURATION_MS / 60_000,
    events_published: published,
    publish_failures: publishFailures,
    events_delivered: stats.delivered,
    events_lost: stats.lost + notCaughtUp,
    duplicates_or_reordered: stats.duplicates,
    clients_not_caught_up: stragglers.length,
    resync_required: stats.resyncs,
    churned: stats.churned,
    reconnects: stats.reconnects,
    stalls: stats.stalls,
    slow_consumer_closes_1013: stats.slowConsumerCloses,
    unexpected_closes: unexpected,
    unexpected_close_codes: Object.fromEntries(stats.unexpectedCloses),
    rss_mib: { start: mibs[0], min: Math.min(...mibs), max: Math.max(...mibs), end: mibs[mibs.length - 1] }
  }
  console.log(JSON.stringify(report, null, 2))
  // A run that published nothing proved nothing: that is a failure too.
  const ok = published > 0 && report.events_lost === 0 && report.duplicates_or_reordered === 0 && unexpected === 0 && publishFailures === 0
  console.log(ok ? 'soak: PASS' : 'soak: FAIL (nothing published, events lost, duplicated, publish failures or unexpected closes)')
  process.exit(ok ? 0 : 1)
}

main().catch((err: unknown) => {
  console.error(`soak: ${(err as Error).message}`)
  process.exit(1)
})
