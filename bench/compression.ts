/**
 * `npm run bench -- --compression`: what permessage-deflate costs, measured
 * in one run on one machine (run.ts starts the targets and client processes).
 *
 *   npm run bench -- --compression --sizes 15000        # the figure
 *   npm run bench -- --compression --sizes 1000 --demo-seconds 20   # a smoke run
 *
 * 1. Server CPU per broadcast of a ~4 KB statistics-like message (a camera
 *    event whose data is a statistics snapshot) to N sockets, every client
 *    offering permessage-deflate as browsers do, for three servers:
 *    - service-plain: the service with COMPRESSION=off (nothing negotiated);
 *    - service-deflate: the service as deployed, each message compressed
 *      once and the frame shared by every socket;
 *    - ws-deflate: the bare `ws` reference with ws's default perMessageDeflate
 *      (context takeover, one zlib stream and one compression per socket).
 *    CPU is the server process's own (user + system, every thread, so zlib's
 *    thread pool counts), summed from /proc/<pid>/task/<tid>/schedstat from
 *    the publish until every socket reported the message; the median over
 *    the broadcasts after a warm-up. The ratios are within this run.
 * 2. Bytes on the wire per dashboard-hour for the demo traffic: the service
 *    in this process with the demo's settings (statistics every second, the
 *    demo's camera simulator at its default rate, COMPRESSION_MIN_BYTES at
 *    its default), one dashboard socket that negotiated permessage-deflate
 *    and one that did not. After a 15 s warm-up (the snapshot's camera list
 *    fills), the bytes each socket read from TCP over --demo-seconds are
 *    scaled to an hour. Frame headers are included; TCP/IP headers are not.
 */
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import type { AddressInfo, Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { buildApp } from '../src/app.js'
import { signToken } from '../src/auth/sign.js'
import { loadConfig } from '../src/config.js'
import { CameraSimulator } from '../scripts/demo/simulator.js'
import type { Command, Report } from './client-worker.js'
import { SECRET } from './service-env.js'

const here = dirname(fileURLToPath(import.meta.url))
const WARM_UP = 3
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

interface Running { port: number, url: string, pids: () => number[] }
interface ClientProcess {
  send (command: Command): void
  next<E extends Report['ev']> (ev: E): Promise<Extract<Report, { ev: E }>>
  onReport: (report: Report) => void
  kill (): void
}
type Target = 'service' | 'ws-reference'

export interface CompressionBenchContext {
  sizes: number[]
  broadcasts: number
  demoSeconds: number
  out: string | undefined
  machine: Record<string, unknown>
  startTarget: (target: Target, label: string, env?: Record<string, string>) => Promise<Running>
  stopTarget: (running: never) => Promise<void>
  newWorker: () => ClientProcess
  httpCall: (port: number, method: string, path: string, body?: string) => Promise<{ status: number, text: string }>
  socketsPerWorker: number
}

const VARIANTS = [
  { name: 'service-plain', target: 'service', env: { COMPRESSION: 'off' } },
  { name: 'service-deflate', target: 'service', env: { COMPRESSION: 'on' } },
  { name: 'ws-deflate', target: 'ws-reference', env: { WS_REFERENCE_DEFLATE: '1' } }
] as const

/** CPU time of a process so far, every thread, in nanoseconds. */
function cpuNs (pid: number): number {
  let sum = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {} // a thread that ended in between
  }
  return sum
}

/** Data shaped like a statistics snapshot, about 4 KB as a camera event; `t` is the send time the clients measure from. */
function statisticsLike (n: number): Record<string, unknown> {
  const cameras = Array.from({ length: 40 }, (_, i) => ({ camera_id: `camera-${i}`, last_event: new Date(Date.now() - i * 7000).toISOString(), events_today: 1000 + n * 3 + i * 17 }))
  const series = Array.from({ length: 60 }, (_, i) => (n + i * 7) % 23)
  return { t: performance.timeOrigin + performance.now(), events_total: 123_456 + n, events_today: 4567 + n, recognitions_today: 321, active_cameras: 40, events_by_type: { motion: 2000 + n, face_recognized: 321, vehicle_detected: 870 }, series: { events: series, recognitions: series.map(v => v % 5) }, cameras }
}

interface CpuResult { variant: string, n: number, opened: number, cpuMsPerBroadcast: number, samples: number }

async function cpuPerBroadcast (ctx: CompressionBenchContext, variant: typeof VARIANTS[number], n: number): Promise<CpuResult> {
  const running = await ctx.startTarget(variant.target, `${variant.name}-${n}`, variant.env)
  const workerCount = Math.max(1, Math.ceil(n / ctx.socketsPerWorker))
  const workers = Array.from({ length: workerCount }, () => ctx.newWorker())
  try {
    let offset = 0
    const reports = await Promise.all(workers.map(async (worker, i) => {
      const count = Math.floor(n / workerCount) + (i < n % workerCount ? 1 : 0)
      const reply = worker.next('connected')
      worker.send({ cmd: 'connect', dialect: 'json', url: running.url, count, users: Math.max(1, Math.ceil(n / 5)), userOffset: offset, secret: SECRET, concurrency: 64, deflate: true })
      offset += count
      return await reply
    }))
    const opened = reports.reduce((sum, report) => sum + report.opened, 0)
    await sleep(1000)
    const done = new Map<number, { count: number, resolve: () => void }>()
    for (const worker of workers) {
      worker.onReport = report => {
        if (report.ev !== 'event') return
        const entry = done.get(report.seq) ?? { count: 0, resolve: () => {} }
        entry.count++
        done.set(report.seq, entry)
        if (entry.count === workers.length) entry.resolve()
      }
    }
    const [pid] = running.pids()
    const samples: number[] = []
    let size = 0
    for (let i = 0; i < WARM_UP + ctx.broadcasts; i++) {
      await sleep(200)
      const body = JSON.stringify({ camera_id: 'cam-1', event_type: 'statistics', data: statisticsLike(i) })
      size = body.length
      const before = cpuNs(pid)
      const reply = await ctx.httpCall(running.port, 'POST', '/api/events', body)
      if (reply.status !== 202) throw new Error(`publish answered ${reply.status}: ${reply.text}`)
      const seq = (JSON.parse(reply.text) as { seq: number }).seq
      const entry = done.get(seq)
      if (entry === undefined || entry.count < workers.length) {
        const complete = new Promise<void>(resolve => { done.set(seq, { count: entry?.count ?? 0, resolve }) })
        if (await Promise.race([complete.then(() => true), sleep(20_000).then(() => false)]) === false) throw new Error(`broadcast ${seq} did not reach every socket within 20 s`)
      }
      const after = cpuNs(pid)
      if (i >= WARM_UP) samples.push((after - before) / 1e6)
    }
    samples.sort((a, b) => a - b)
    const median = samples[Math.floor(samples.length / 2)]
    console.log(`    ${variant.name} N=${n}: ${opened} opened, ${median.toFixed(2)} ms CPU per broadcast of a ${size}-byte publish body (median of ${samples.length})`)
    return { variant: variant.name, n, opened, cpuMsPerBroadcast: median, samples: samples.length }
  } finally {
    for (const worker of workers) worker.kill()
    await ctx.stopTarget(running as never)
  }
}

interface WireResult { seconds: number, compressedBytesPerHour: number, plainBytesPerHour: number, ratio: number }

async function demoBytesPerHour (seconds: number): Promise<WireResult> {
  const config = loadConfig({ NODE_ENV: 'development', JWT_SECRET: SECRET, LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', STATS_INTERVAL_MS: '1000', HTTP_RATE_LIMIT_PER_MINUTE: '0' })
  const app = await buildApp(config)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const simulator = new CameraSimulator({ url: base, token: signToken({ sub: 'demo-camera-gateway', roles: ['publisher'] }, { key: SECRET, ttlMs: 3_600_000 }) })
  const viewer = signToken({ sub: 'demo-viewer' }, { key: SECRET, ttlMs: 3_600_000 })
  const open = async (deflate: boolean): Promise<WebSocket> => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}/api/ws/statistics?token=${viewer}`, { perMessageDeflate: deflate })
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('open', resolve))
    return socket
  }
  const bytesRead = (socket: WebSocket): number => (socket as unknown as { _socket: Socket })._socket.bytesRead
  try {
    simulator.start()
    const [compressed, plain] = [await open(true), await open(false)]
    if (compressed.extensions !== 'permessage-deflate' || plain.extensions !== '') throw new Error('the demo sockets did not negotiate as intended')
    console.log(`    demo traffic: 15 s warm-up, then ${seconds} s measured …`)
    await sleep(15_000)
    const start = [bytesRead(compressed), bytesRead(plain)]
    await sleep(seconds * 1000)
    const perHour = (socket: WebSocket, i: number): number => (bytesRead(socket) - start[i]) * 3600 / seconds
    const result = { seconds, compressedBytesPerHour: perHour(compressed, 0), plainBytesPerHour: perHour(plain, 1), ratio: 0 }
    result.ratio = result.plainBytesPerHour / result.compressedBytesPerHour
    compressed.terminate()
    plain.terminate()
    return result
  } finally {
    await simulator.stop()
    await app.close()
  }
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`

export async function compressionBench (ctx: CompressionBenchContext): Promise<void> {
  console.log(`bench --compression: sizes ${ctx.sizes.join(', ')}; ${ctx.broadcasts} broadcasts after ${WARM_UP} warm-up; ${JSON.stringify(ctx.machine)}`)
  const cpu: CpuResult[] = []
  for (const n of ctx.sizes) {
    for (const variant of VARIANTS) {
      try {
        cpu.push(await cpuPerBroadcast(ctx, variant, n))
      } catch (err) {
        console.error(`  ${variant.name} N=${n} failed: ${(err as Error).message}`)
        process.exitCode = 1
      }
    }
  }
  const wire = await demoBytesPerHour(ctx.demoSeconds)
  const rows = ['| N | service-plain | service-deflate | ws-deflate | deflate ÷ plain (target ≤ 1.3) | ws-deflate ÷ deflate (target ≥ 5) |', '|---|---|---|---|---|---|']
  for (const n of ctx.sizes) {
    const at = (name: string): number => cpu.find(r => r.n === n && r.variant === name)?.cpuMsPerBroadcast ?? NaN
    const [plain, once, perSocket] = [at('service-plain'), at('service-deflate'), at('ws-deflate')]
    rows.push(`| ${n} | ${plain.toFixed(2)} ms | ${once.toFixed(2)} ms | ${perSocket.toFixed(2)} ms | ${(once / plain).toFixed(2)}× | ${(perSocket / once).toFixed(2)}× |`)
  }
  const table = [
    'server CPU per broadcast of a ~4 KB statistics-like message (median):',
    rows.join('\n'),
    '',
    `demo traffic per dashboard-hour (measured over ${wire.seconds} s, scaled): ${mb(wire.compressedBytesPerHour)} compressed vs ${mb(wire.plainBytesPerHour)} plain (${wire.ratio.toFixed(2)}× fewer bytes)`
  ].join('\n')
  console.log('\n' + table)
  mkdirSync(join(here, 'results'), { recursive: true })
  const out = ctx.out ?? join(here, 'results', `compression-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: ctx.machine, sizes: ctx.sizes, broadcasts: ctx.broadcasts, cpu, wire, table }, null, 2))
  console.log(`results written to ${out}`)
}
