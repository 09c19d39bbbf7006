/**
 * `npm run bench`: measures, in one run on one machine, this service against
 * two small reference servers (bench/targets): a bare `ws` server and
 * socket.io. Clients live in separate processes (bench/client-worker.ts).
 * `service-cluster` is the service again as WORKERS=2 worker processes
 * sharing state through a redis-server that the benchmark starts itself,
 * compared with the single-process `service` in a second table.
 *
 *   npm run bench                         # N = 1000, 5000, 15000 (7 to 13 minutes)
 *   npm run bench -- --targets service,service-cluster --sizes 1000,5000
 *   npm run bench -- --quick              # N = 200, 1000: 4 to 5 minutes, for development
 *   npm run bench -- --sizes 2000 --targets service,ws-reference --sustained-size 2000
 *   npm run bench -- --repeat 2           # every figure the best of two rounds (noisy machines)
 *   npm run bench -- --cpu-prof           # also writes CPU profiles of the targets
 *   npm run bench -- --connect-prof       # CPU profiles of the measured connect phase only
 *   npm run bench -- --connect-perf       # per-thread CPU, context switches and syscalls of that phase (perf)
 *   npm run bench -- --sizes 15000 --targets service --scopes 50   # camera scopes (below)
 *   npm run bench -- --handshake-pairs 12 --sizes 15000   # cluster vs one process, alternating bursts (handshake-pairs.ts)
 *
 * Each measurement starts with a warm-up (--warmup, default 2000 per server
 * process, at most N: connections opened and closed again, not measured). Per target and N:
 * authenticated handshakes per second (each client
 * process keeps --in-flight handshakes open at once, from its own loopback
 * address) and the server's CPU time per handshake over every process it
 * runs (the split for a cluster is printed as it runs), RSS per idle
 * connection, fan-out of one camera_event to all N (p50 and last delivery,
 * median over the broadcasts after warm-up), p99 round trip of an app-level
 * ping from one extra client during the fan-outs, and at the sustained size
 * the highest events/s whose delivery p99 stays under 250 ms, and at the end
 * how many of the opened connections are still held. Prints a table with
 * ratios against ws-reference (and one of service-cluster against service)
 * and writes JSON to bench/results/.
 *
 * --scopes K (default 0: every token unscoped, as above): the client socket
 * with index i (0 … N-1 over all client processes) gets a token whose claim
 * is `cameras: ["site-<i mod K>/*"]`, and the fan-out publishes camera events
 * for `site-0/cam1`, so each broadcast is for the ceil(N/K) sockets with
 * i mod K = 0. The clients check admission themselves (a prefix test, not
 * the service's code) and count every delivery: the table gets a `reached`
 * column (sockets that received each broadcast, of the admitted), fan-out
 * p50/last are over the admitted sockets, and a FAIL line and exit code 1
 * follow if a socket outside the scope received one or an admitted socket
 * missed one. The pinger stays unscoped. ws-reference and socket.io know no
 * scopes and are skipped with a note (an unscoped broadcast to all N is not
 * comparable); the sustained search is skipped too (it waits for every socket).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signToken } from '../src/auth/sign.js'
import { parseCli, usageError } from '../scripts/lib/cli.js'
import type { Command, Dialect, Report } from './client-worker.js'
import { cpuMs, freePort, rssBytes } from './process-stats.js'
import { BASELINE_ENV, SECRET, SERVICE_ENV } from './service-env.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const TARGETS = ['service', 'ws-reference', 'socket.io', 'service-cluster'] as const
/** `baseline` is the service from another checkout (--baseline DIR), for before/after in one run. */
type Target = typeof TARGETS[number] | 'baseline'
const SOCKETS_PER_WORKER = 5000

const args = parseCli({
  name: 'bench',
  command: 'npm run bench --',
  summary: `Measures the service against a bare ws server and socket.io on this machine: handshakes/s,
RSS per connection, fan-out to N sockets, ping p99 during fan-outs and the sustainable event
rate. Prints a table and writes JSON to bench/results/. Default N: 1000, 5000, 15000 (7 to 13 min).`,
  options: {
    quick: { type: 'boolean', help: 'N = 200, 1000 and fewer broadcasts: 4 to 5 minutes, for development' },
    sizes: { type: 'integers', min: 1, max: 18_000, help: 'connection counts N (one server process holds at most ~19,000 sockets)' },
    targets: { type: 'enums', values: [...TARGETS, 'baseline'], help: 'what to measure (default: all but baseline; service-cluster only with redis-server installed)' },
    'sustained-size': { type: 'integer', min: 1, max: 18_000, help: 'N for the sustained-rate search (default 5000, 1000 with --quick)' },
    broadcasts: { type: 'integer', min: 1, max: 1000, help: 'fan-out broadcasts per N, after 3 warm-up ones (default 10, 5 with --quick)' },
    repeat: { type: 'integer', default: 1, min: 1, max: 10, help: 'rounds; every figure is the best of them (noisy machines); with service and service-cluster also the handshake ratio of each round' },
    'cpu-prof': { type: 'boolean', help: 'also write CPU profiles of the targets' },
    'connect-prof': { type: 'boolean', help: 'write a CPU profile of every target process over the measured connect phase only (bench/results/connect-profile-<target>-<N>/)' },
    'connect-perf': { type: 'boolean', help: 'count CPU time, context switches and socket system calls of every thread of the target (redis-server included) over the measured connect phase only, with `perf stat --per-thread` (bench/results/connect-perf-<target>-<N>.txt; needs perf and root or perf_event_paranoid <= 1)' },
    'in-flight': { type: 'integer', default: 192, min: 1, max: 2000, help: 'handshakes each client process keeps in flight while connecting; each process connects from its own loopback address (127.0.0.2, .3, …), so the per-address pending limit (MAX_PENDING_PER_IP, 512) does not bind' },
    warmup: { type: 'integer', default: 2000, min: 0, max: 18_000, help: 'handshakes opened and closed again before each measurement per server process (service-cluster: times --cluster-workers; at most N), so every process of the target has compiled its hot code as far as one process has; 0 measures from a cold start' },
    'cluster-workers': { type: 'integer', default: 2, min: 1, max: 8, help: 'WORKERS for service-cluster (1 isolates the cost of Redis and the hand-off from two workers sharing the cores)' },
    scopes: { type: 'integer', default: 0, min: 0, max: 10_000, help: 'K camera scopes: socket i sees site-<i mod K>/*; 0 = every token unscoped' },
    baseline: { type: 'string', arg: '<dir>', help: 'also measure the service from another checkout, for before/after in one run' },
    out: { type: 'string', arg: '<file.json>', help: 'where to write the JSON (default bench/results/bench-<time>.json)' },
    'handshake-pairs': { type: 'integer', min: 1, max: 50, arg: '<K>', help: 'instead of the main table: service and service-cluster side by side, K pairs of bursts of N handshakes alternating between them (S C C S …), each pair\'s ratio and each ABBA run\'s (bench/handshake-pairs.ts)' },
    compression: { type: 'boolean', help: 'instead of the main table: CPU per broadcast of a 4 KB message, compressed once vs plain vs ws per-socket deflate, and demo bytes per dashboard-hour (bench/compression.ts)' },
    'demo-seconds': { type: 'integer', default: 60, min: 5, max: 3600, help: 'with --compression: seconds of demo traffic to measure bytes on the wire' }
  },
  examples: [
    'npm run bench -- --targets service,service-cluster --sizes 1000,5000',
    'npm run bench -- --quick',
    'npm run bench -- --sizes 2000 --targets service,ws-reference --sustained-size 2000',
    'npm run bench -- --sizes 15000 --targets service --scopes 50',
    'npm run bench -- --compression --sizes 1000 --demo-seconds 20'
  ]
})
function fail (message: string): never {
  return usageError('bench', message)
}
const sizes = args.sizes ?? (args.quick ? [200, 1000] : [1000, 5000, 15000])
/** service-cluster needs a redis-server binary; by default it is skipped (with a message) without one. */
const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0
const REDIS_MISSING = 'redis-server is not installed: `apt-get install redis-server` (Debian/Ubuntu) to measure service-cluster'
const defaultTargets = TARGETS.filter(target => target !== 'service-cluster' || HAVE_REDIS)
if (args.targets === undefined && !HAVE_REDIS) console.log(`skipping service-cluster: ${REDIS_MISSING}`)
const targets: Target[] = [...(args.targets ?? defaultTargets)]
if (targets.includes('service-cluster') && !HAVE_REDIS) fail(`--targets service-cluster: ${REDIS_MISSING}`)
if (args.baseline !== undefined && !targets.includes('baseline')) targets.splice(1, 0, 'baseline')
if (args.baseline === undefined && targets.includes('baseline')) fail('--targets baseline needs --baseline <dir>, the other checkout to measure')
const scopes = args.scopes
/** The camera every fan-out broadcast is for: with scopes, one that only site-0's sockets see. */
const CAMERA = scopes > 0 ? 'site-0/cam1' : 'cam-1'
if (scopes > 0) {
  const unscopedOnly: Target[] = targets.filter(target => target === 'ws-reference' || target === 'socket.io')
  if (unscopedOnly.length > 0) console.log(`--scopes ${scopes}: skipping ${unscopedOnly.join(' and ')} (no camera scopes there; an unscoped broadcast to all N is not comparable)`)
  targets.splice(0, targets.length, ...targets.filter(target => !unscopedOnly.includes(target)))
  if (targets.length === 0) fail('--scopes needs a service target: service, service-cluster or baseline')
}
const sustainedSize = args['sustained-size'] ?? (args.quick ? 1000 : 5000)
const broadcasts = args.broadcasts ?? (args.quick ? 5 : 10)
const WARM_UP = 3
const repeat = args.repeat

const wallNow = (): number => performance.timeOrigin + performance.now()
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

function quantile (values: number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}
const median = (values: number[]): number => quantile(values, 0.5)



const agent = new Agent({ keepAlive: true, maxSockets: 64 })
const publisherToken = signToken({ sub: 'bench-publisher', roles: ['publisher'] }, { key: SECRET, ttlMs: 6 * 3_600_000 })
const adminToken = signToken({ sub: 'bench-admin', roles: ['admin'] }, { key: SECRET, ttlMs: 6 * 3_600_000 })

async function httpCall (port: number, method: string, path: string, body?: string, token = publisherToken): Promise<{ status: number, text: string }> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' }
  if (body !== undefined || path === '/api/ws/status') headers.authorization = `Bearer ${token}`
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    // A target that never answers fails the measurement instead of hanging the run.
    req.setTimeout(30_000, () => { req.destroy(new Error(`${method} ${path} got no answer within 30 s`)) })
    req.end(body)
  })
}

/** Publishes one camera event carrying its send time; resolves with its seq. */
async function publish (port: number): Promise<number> {
  const body = JSON.stringify({ camera_id: CAMERA, event_type: 'motion', data: { t: wallNow(), zone: 'entrance', confidence: 0.93 } })
  const reply = await httpCall(port, 'POST', '/api/events', body)
  if (reply.status !== 202) throw new Error(`publish answered ${reply.status}: ${reply.text}`)
  return (JSON.parse(reply.text) as { seq: number }).seq
}

/** The service's connection counts from GET /api/ws/status (admin): in cluster mode per worker. */
interface ServerStatus { total_connections: number, instances?: Record<string, number> }

async function serverStatus (port: number): Promise<ServerStatus> {
  const reply = await httpCall(port, 'GET', '/api/ws/status', undefined, adminToken)
  if (reply.status !== 200) throw new Error(`GET /api/ws/status answered ${reply.status}: ${reply.text}`)
  return JSON.parse(reply.text) as ServerStatus
}

/**
 * Kills, at once and synchronously, every process the benchmark started and
 * has not stopped yet: run on exit, on errors and on SIGTERM/SIGHUP or a
 * second Ctrl-C, so no redis-server or worker process outlives the run.
 * A negative pid kills a whole process group (the cluster's primary and its workers).
 */
const leftovers = new Map<number, string>()
function killLeftovers (): void {
  for (const pid of leftovers.keys()) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  leftovers.clear()
}
process.on('exit', killLeftovers)
for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every target process`)
    killLeftovers()
    process.exit(128 + (signal === 'SIGTERM' ? 15 : 1))
  })
}
process.on('uncaughtException', err => {
  console.error(err)
  killLeftovers()
  process.exit(1)
})

/** Whether any process of the group led by `pgid` is still alive. */
function groupAlive (pgid: number): boolean {
  try { process.kill(-pgid, 0); return true } catch { return false }
}

/** A redis-server for service-cluster: loopback, a free port, no persistence. */
async function startRedis (): Promise<{ process: ChildProcess, port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    // Its own process group, so Ctrl-C in the terminal does not stop it in the middle of a measurement.
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    leftovers.set(child.pid!, 'redis-server')
    let output = ''
    const ready = await new Promise<boolean>(resolve => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) resolve(true)
      })
      child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
      child.once('exit', () => resolve(false))
    })
    if (ready) {
      child.stdout!.resume()
      child.stderr!.resume()
      return { process: child, port }
    }
    leftovers.delete(child.pid!)
    // Another program may have taken the free port in between: try another.
    if (attempt === 3) throw new Error(`redis-server did not start: ${output.trim()}`)
  }
}

interface Running {
  process: ChildProcess
  port: number
  url: string
  dialect: Dialect
  /** service-cluster only: the redis-server it shares state through. */
  redis?: ChildProcess
  /** The pids whose RSS counts as the server's: for service-cluster the primary, its workers and redis-server. */
  pids: () => number[]
}

/** The direct children of a process (the cluster's workers). */
function childPids (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

async function startTarget (target: Target, label: string, env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort()
  const cluster = target === 'service-cluster'
  const redis = cluster ? await startRedis() : undefined
  const script = target === 'service' || cluster ? join(root, 'src/server.ts') : target === 'baseline' ? join(args.baseline!, 'src/server.ts') : join(here, 'targets', target === 'ws-reference' ? 'ws-reference.ts' : 'socketio.ts')
  const nodeArgs = ['--expose-gc', '--import', join(here, 'targets/gc-on-signal.mjs'), '--import', 'tsx']
  if (args['cpu-prof']) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', join(here, 'results', `profile-${label}`))
  if (args['connect-prof']) nodeArgs.push('--import', join(here, 'targets/profile-on-signal.mjs'))
  // node:cluster workers inherit these node options (execArgv), so each worker also collects garbage on SIGUSR2.
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    // Its own process group: Ctrl-C in the terminal does not stop it in the middle of a
    // measurement, and one kill stops the cluster's primary and every worker.
    detached: true,
    env: {
      ...process.env,
      ...SERVICE_ENV,
      ...(target === 'baseline' ? BASELINE_ENV : {}),
      PORT: String(port),
      MAX_CONNECTIONS_PER_USER: '10000',
      ...(args['connect-prof'] ? { BENCH_PROFILE_DIR: connectProfileDir(label) } : {}),
      ...(redis === undefined ? {} : { WORKERS: String(args['cluster-workers']), REDIS_URL: `redis://127.0.0.1:${redis.port}` }),
      ...env
    }
  })
  leftovers.set(-child.pid!, target)
  const pids = (): number[] => cluster ? [child.pid!, ...childPids(child.pid!), redis!.process.pid!] : [child.pid!]
  const running: Running = { process: child, port, url: '', dialect: 'json', redis: redis?.process, pids }
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        // The cluster answers /healthz as soon as one worker listens; wait until both registered,
        // or the port would hand every connection to the first one.
        if (cluster
          ? Object.keys((await serverStatus(port)).instances ?? {}).length === args['cluster-workers']
          : (await httpCall(port, 'GET', '/healthz')).status === 200) break
      } catch {}
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${target} did not start`)
      await sleep(100)
    }
  } catch (err) {
    await stopTarget(running)
    throw err
  }
  const url = target === 'socket.io'
    ? `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`
    : `ws://127.0.0.1:${port}/api/ws/statistics`
  running.url = url
  running.dialect = target === 'socket.io' ? 'socketio' : 'json'
  return running
}

async function stopTarget (running: Running): Promise<void> {
  const { process: child, redis } = running
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise(resolve => child.once('exit', resolve))
    // SIGINT lets the service write its CPU profile (the cluster's primary passes it on
    // to its workers as SIGTERM); the references exit on it too. Only to the leader:
    // the cluster's workers must hear it from their primary.
    if (args['cpu-prof']) child.kill('SIGINT')
    else process.kill(-child.pid!, 'SIGKILL')
    await Promise.race([exited, sleep(15_000)])
  }
  // Workers may outlive their primary for a moment: the group is done only when all are gone.
  if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL')
  // Bounded: where nothing reaps orphans, their zombies keep the group "alive".
  for (let i = 0; i < 250 && groupAlive(child.pid!); i++) await sleep(20)
  leftovers.delete(-child.pid!)
  if (redis !== undefined) {
    if (redis.exitCode === null && redis.signalCode === null) {
      const exited = new Promise(resolve => redis.once('exit', resolve))
      redis.kill('SIGKILL')
      await exited
    }
    leftovers.delete(redis.pid!)
  }
}

/** A client process and a queue of its reports. */
class Worker {
  readonly child: ChildProcess
  readonly #waiters: Array<{ ev: string, resolve: (report: Report) => void, reject: (err: Error) => void }> = []
  onReport: (report: Report) => void = () => {}

  constructor () {
    this.child = fork(join(here, 'client-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    // A client process that dies (killed, out of memory) fails the measurement instead of hanging it.
    this.child.on('exit', (code, signal) => {
      for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(`a client process exited (${signal ?? code}) while the runner waited for '${waiter.ev}'`))
    })
    this.child.on('message', (report: Report) => {
      const index = this.#waiters.findIndex(waiter => waiter.ev === report.ev)
      if (index >= 0) this.#waiters.splice(index, 1)[0].resolve(report)
      else this.onReport(report)
    })
  }

  /** A send to a process that has exited is dropped: its waiters were already rejected on exit. */
  send (command: Command): void {
    if (this.child.connected) this.child.send(command, () => {})
  }

  async next<E extends Report['ev']> (ev: E): Promise<Extract<Report, { ev: E }>> {
    return await new Promise((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) reject(new Error(`a client process has exited; cannot wait for '${ev}'`))
      else this.#waiters.push({ ev, resolve: resolve as (report: Report) => void, reject })
    })
  }

  kill (): void { this.child.kill('SIGKILL') }
}

function connectProfileDir (label: string): string {
  return join(here, 'results', `connect-profile-${label}`)
}

/** With --connect-prof: starts (then stops and writes) the CPU profiler in every Node process of the target. */
function toggleConnectProfiles (running: Running): void {
  if (args['connect-prof'] !== true) return
  for (const pid of running.pids()) if (pid !== running.redis?.pid) process.kill(pid, 'SIGWINCH')
}

/** What --connect-perf counts: where a handshake's CPU goes that a JavaScript profile cannot see. */
const PERF_EVENTS = 'task-clock,context-switches,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_accept4,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_writev'

/**
 * With --connect-perf: attaches `perf stat` to every process of the target
 * and returns what stops it (perf writes its counts on SIGINT). Divide the
 * counts by the handshakes opened to get them per handshake.
 */
async function startConnectPerf (running: Running, label: string): Promise<(() => Promise<void>) | null> {
  if (args['connect-perf'] !== true) return null
  mkdirSync(join(here, 'results'), { recursive: true })
  const out = join(here, 'results', `connect-perf-${label}.txt`)
  const child = spawn('perf', ['stat', '--per-thread', '-e', PERF_EVENTS, '-o', out, '-p', running.pids().join(',')], { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise<void>(resolve => {
    child.once('error', err => { console.error(`    --connect-perf: could not run perf (${err.message}); install it (Debian: linux-perf)`); resolve() })
    child.once('exit', () => { resolve() })
  })
  // perf gives no sign once it has attached; it takes well under this.
  await sleep(300)
  return async () => {
    child.kill('SIGINT')
    await exited
    console.log(`    connect-phase perf counts: ${out}`)
  }
}

/** Forces a GC in every Node process of the target, then sums their RSS (and redis-server's). */
async function gcAndRss (running: Running): Promise<number> {
  const pids = running.pids()
  for (const pid of pids) if (pid !== running.redis?.pid) process.kill(pid, 'SIGUSR2')
  await sleep(700)
  return pids.reduce((sum, pid) => sum + rssBytes(pid), 0)
}

interface Result {
  target: Target
  n: number
  opened: number
  failed: number
  /** Sockets still open on the client side at the end (after the fan-outs and the sustained run). */
  held: number
  /** Connections by instance as the service counts them at the end (cluster only; includes the pinger). */
  instances: Record<string, number> | null
  handshakesPerSec: number
  /** CPU time per opened connection during the connect phase, in microseconds, by process role. */
  handshakeCpu: HandshakeCpu
  rssPerConnectionBytes: number
  fanoutP50Ms: number
  fanoutLastMs: number
  pingP99Ms: number
  sustainedEventsPerSec: number | null
  incompleteBroadcasts: number
  /** With --scopes: the opened sockets whose scope admits the camera, and how many sockets each broadcast reached. */
  admitted: number | null
  reached: number[] | null
  /** Deliveries to sockets whose scope does not admit the camera, over every broadcast. */
  strays: number | null
}

/**
 * The loopback address client process `i` connects from. Handshakes/s is a
 * capacity figure: the clients must keep enough handshakes in flight that the
 * server, not the round trip, sets the pace (a cluster handshake takes more
 * hops than a single process's). Separate addresses keep that within the
 * service's per-address pending limit, as real clients from many hosts would.
 */
function sourceAddress (): string | undefined {
  if (process.platform !== 'linux') return undefined
  // A fresh address per client process of the run: the ports an earlier
  // measurement's sockets left in TIME_WAIT make the kernel's search for a
  // free source port (bind before connect) slow, and it would bill that to
  // whichever target came second.
  // A random block per run, for the same reason across runs a minute apart.
  const k = addressBase + addressesUsed++
  return `127.${1 + Math.floor(k / 62_500) % 254}.${Math.floor(k / 250) % 250}.${2 + k % 250}`
}
const addressBase = Math.floor(Math.random() * 254 * 62_500)
let addressesUsed = 0

/** The service frees each slot just after the close: the next measurement starts from an empty service. */
async function untilEmpty (running: Running, what: string): Promise<void> {
  for (let tries = 0; (await serverStatus(running.port)).total_connections > 0; tries++) {
    if (tries === 200) throw new Error(`${what} were still counted 10 s after they closed`)
    await sleep(50)
  }
}

/**
 * Opens and closes `--warmup` connections before the measurement, from the
 * client processes that then measure. V8 compiles a process's hot functions
 * after they have run a while; a cluster pays that once per worker, so from
 * a cold start its handshake figures would measure compiling as much as
 * serving. A service runs for days: the steady state is what counts. The
 * clients warm up too: cold, they needed 250–320 µs of CPU per handshake
 * (warm ~100–120 µs) on the two cores the target also runs on.
 */
async function warmUp (running: Running, workers: Worker[], count: number, hasStatus: boolean): Promise<void> {
  if (count === 0) return
  // Split as the measurement splits its N: a user per five sockets, over all the client processes.
  const users = Math.max(1, Math.ceil(count / 5))
  const reports = await Promise.all(workers.map(async (worker, i) => {
    const share = Math.floor(count / workers.length) + (i < count % workers.length ? 1 : 0)
    const offset = i * Math.floor(count / workers.length) + Math.min(i, count % workers.length)
    const opened = worker.next('connected')
    worker.send({ cmd: 'connect', dialect: running.dialect, url: running.url, count: share, users, userOffset: offset, secret: SECRET, concurrency: args['in-flight'], localAddress: sourceAddress() })
    const report = await opened
    const closed = worker.next('closed')
    worker.send({ cmd: 'close' })
    await closed
    return report
  }))
  if (hasStatus) await untilEmpty(running, 'the warm-up connections')
  const opened = reports.reduce((sum, r) => sum + r.opened, 0)
  const failed = reports.reduce((sum, r) => sum + r.failed, 0)
  console.log(`    warm-up: ${opened} handshakes opened and closed${failed > 0 ? ` (${failed} failed, by close code: ${failuresText(reports)})` : ''}`)
}

/** Close codes of the handshakes that failed (1006: the connection broke without a close frame, an HTTP refusal included). */
function failuresText (reports: Array<Extract<Report, { ev: 'connected' }>>): string {
  const byCode: Record<string, number> = {}
  for (const r of reports) for (const [code, count] of Object.entries(r.failures)) byCode[code] = (byCode[code] ?? 0) + count
  return Object.entries(byCode).map(([code, count]) => `${code} × ${count}`).join(', ')
}

/** Microseconds of CPU per handshake: the service (split by role in a cluster) and the client processes. */
interface HandshakeCpu { service: number, primary: number | null, workers: number | null, redis: number | null, clients: number }

function cpuByPid (pids: number[]): Map<number, number> {
  return new Map(pids.map(pid => [pid, cpuMs(pid)]))
}

/**
 * Where the CPU of the connect phase went. Handshakes/s alone cannot tell a
 * slow service from a starved one on a 2-core machine that also runs the
 * clients and redis-server: this says what each handshake cost each process.
 */
function cpuPerHandshake (running: Running, serverBefore: Map<number, number>, clientBefore: Map<number, number>, workers: Worker[], opened: number): HandshakeCpu {
  const used = (before: Map<number, number>, pids: number[]): number =>
    pids.reduce((sum, pid) => sum + cpuMs(pid) - (before.get(pid) ?? 0), 0) * 1000 / Math.max(1, opened)
  const all = running.pids()
  const clients = used(clientBefore, workers.map(worker => worker.child.pid!))
  if (running.redis === undefined) return { service: used(serverBefore, all), primary: null, workers: null, redis: null, clients }
  const primary = running.process.pid!
  const redis = running.redis.pid!
  const workerPids = all.filter(pid => pid !== primary && pid !== redis)
  return {
    service: used(serverBefore, all),
    primary: used(serverBefore, [primary]),
    workers: used(serverBefore, workerPids),
    redis: used(serverBefore, [redis]),
    clients
  }
}

function handshakeCpuText (cpu: HandshakeCpu): string {
  const us = (value: number): string => `${Math.round(value)} µs`
  const split = cpu.primary === null ? '' : ` (primary ${us(cpu.primary)}, workers ${us(cpu.workers!)}, redis-server ${us(cpu.redis!)})`
  return `service ${us(cpu.service)}${split}, clients ${us(cpu.clients)}`
}

async function sustained (running: Running, workers: Worker[]): Promise<number> {
  const keep = Math.max(50, Math.floor(300 / workers.length))
  let latencies: number[] = []
  const lowest = new Map<Worker, number>()
  for (const worker of workers) {
    worker.onReport = report => {
      if (report.ev !== 'lat') return
      for (const value of report.latencies) latencies.push(value)
      lowest.set(worker, report.lowestLastSeq)
    }
    worker.send({ cmd: 'sample', keep })
  }
  let best = 0
  for (let rate = 5; rate <= 20_000; rate = Math.ceil(rate * 1.3)) {
    latencies = []
    const started = performance.now()
    const durationMs = 3000
    let sent = 0
    let lastSeq = 0
    const inFlight: Array<Promise<void>> = []
    while (performance.now() - started < durationMs) {
      const due = Math.floor((performance.now() - started) * rate / 1000) + 1
      while (sent < due) {
        sent++
        inFlight.push(publish(running.port).then(seq => { lastSeq = Math.max(lastSeq, seq) }))
      }
      await sleep(Math.max(1, Math.min(20, 1000 / rate)))
    }
    await Promise.all(inFlight)
    const deadline = Date.now() + 5000
    while ([...lowest.values()].some(seq => seq < lastSeq) || lowest.size < workers.length) {
      if (Date.now() > deadline) break
      await sleep(20)
    }
    const complete = [...lowest.values()].every(seq => seq >= lastSeq)
    const p99 = quantile(latencies, 0.99)
    process.stdout.write(`    ${rate} events/s: delivery p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${quantile(latencies, 1).toFixed(1)} ms (${latencies.length} samples)${complete ? '' : ' (incomplete)'}\n`)
    if (!complete || !(p99 < 250)) break
    best = rate
    await sleep(500)
  }
  return best
}

/** What opening N sockets measured: counts, the rate and where its CPU went. */
interface Connected { opened: number, failed: number, admitted: number, handshakesPerSec: number, handshakeCpu: HandshakeCpu }

/**
 * Opens `n` sockets to the target from the client processes `workers` (each
 * from a fresh loopback address) and measures the handshakes: the connect
 * phase of every measurement, and each burst of --handshake-pairs.
 */
async function connectPhase (running: Running, workers: Worker[], n: number, label: string): Promise<Connected> {
  const workerCount = workers.length
  const users = Math.max(1, Math.ceil(n / 5))
  let offset = 0
  toggleConnectProfiles(running)
  const stopPerf = await startConnectPerf(running, label)
  const serverCpuBefore = cpuByPid(running.pids())
  const clientCpuBefore = cpuByPid(workers.map(worker => worker.child.pid!))
  const connected = workers.map((worker, i) => {
    const count = Math.floor(n / workerCount) + (i < n % workerCount ? 1 : 0)
    const reply = worker.next('connected')
    worker.send({ cmd: 'connect', dialect: running.dialect, url: running.url, count, users, userOffset: offset, secret: SECRET, concurrency: args['in-flight'], localAddress: sourceAddress(), scopes, camera: CAMERA })
    offset += count
    return reply
  })
  const reports = await Promise.all(connected)
  toggleConnectProfiles(running)
  await stopPerf?.()
  if (args['connect-prof'] === true) console.log(`    connect-phase CPU profiles: ${connectProfileDir(label)}/`)
  const opened = reports.reduce((sum, r) => sum + r.opened, 0)
  const failed = reports.reduce((sum, r) => sum + r.failed, 0)
  if (failed > 0) console.log(`    ${failed} handshakes failed, by close code: ${failuresText(reports)}`)
  const admitted = reports.reduce((sum, r) => sum + r.admitted, 0)
  if (scopes > 0) {
    const assigned = Math.ceil(n / scopes)
    console.log(`    ${admitted} opened sockets admit ${CAMERA} (the assignment gives ${assigned} of ${n})`)
  }
  const handshakesPerSec = opened / ((Math.max(...reports.map(r => r.endedAt)) - Math.min(...reports.map(r => r.startedAt))) / 1000)
  const handshakeCpu = cpuPerHandshake(running, serverCpuBefore, clientCpuBefore, workers, opened)
  console.log(`    CPU per handshake: ${handshakeCpuText(handshakeCpu)}`)
  return { opened, failed, admitted, handshakesPerSec, handshakeCpu }
}

async function measure (target: Target, n: number): Promise<Result> {
  const label = `${target}-${n}`
  const running = await startTarget(target, label)
  const workerCount = Math.max(1, Math.ceil(n / SOCKETS_PER_WORKER))
  const workers = Array.from({ length: workerCount }, () => new Worker())
  const pinger = new Worker()
  try {
    await sleep(500)
    // Memory is measured from the cold start: the heap the warm-up grew is reused by the N connections.
    const baseline = await gcAndRss(running)
    // Per server process: each worker compiles its own code, and with the same total each would start half as warm.
    const warmupCount = Math.min(args.warmup * (target === 'service-cluster' ? args['cluster-workers'] : 1), n)
    await warmUp(running, workers, warmupCount, target === 'service' || target === 'service-cluster' || target === 'baseline')
    const { opened, failed, admitted, handshakesPerSec, handshakeCpu } = await connectPhase(running, workers, n, label)
    await sleep(1500)
    const loaded = await gcAndRss(running)
    const rssPerConnectionBytes = (loaded - baseline) / opened

    const pingReady = pinger.next('connected')
    pinger.send({ cmd: 'connect', dialect: running.dialect, url: running.url, count: 1, users: 1, userOffset: 0, secret: SECRET, concurrency: 1 })
    await pingReady
    pinger.send({ cmd: 'ping-start', intervalMs: 5 })

    const p50s: number[] = []
    const lasts: number[] = []
    let incomplete = 0
    /** Per broadcast seq, admitted sockets that reported it, counted by the client processes that completed it. */
    const reachedBySeq = new Map<number, number>()
    const pending = new Map<number, { parts: number[][], done: () => void }>()
    const partsFor = (seq: number): { parts: number[][], done: () => void } => {
      let entry = pending.get(seq)
      if (entry === undefined) pending.set(seq, entry = { parts: [], done: () => {} })
      return entry
    }
    for (const worker of workers) {
      worker.onReport = report => {
        if (report.ev !== 'event') return
        // A process that completes a broadcast after the runner gave up on it still counts as reached.
        const late = reachedBySeq.get(report.seq)
        if (late !== undefined && !pending.has(report.seq)) { reachedBySeq.set(report.seq, late + report.latencies.length); return }
        const entry = partsFor(report.seq)
        entry.parts.push(report.latencies)
        if (entry.parts.length === workers.length) entry.done()
      }
    }
    for (let i = 0; i < WARM_UP + broadcasts; i++) {
      await sleep(300)
      const seq = await publish(running.port)
      const entry = partsFor(seq)
      if (entry.parts.length < workers.length) {
        await Promise.race([new Promise<void>(resolve => { entry.done = resolve }), sleep(20_000)])
      }
      pending.delete(seq)
      reachedBySeq.set(seq, entry.parts.reduce((sum, part) => sum + part.length, 0))
      if (entry.parts.length < workers.length) { incomplete++; continue }
      if (i < WARM_UP) continue
      const all = entry.parts.flat()
      p50s.push(median(all))
      lasts.push(Math.max(...all))
    }
    const pingStats = pinger.next('ping')
    pinger.send({ cmd: 'ping-stop' })
    const { rtts } = await pingStats
    if (n === sustainedSize && scopes > 0) console.log('    sustained: skipped with --scopes (it waits for every socket)')
    const sustainedEventsPerSec = n === sustainedSize && scopes === 0 ? await sustained(running, workers) : null
    await sleep(500)
    const tallies = await Promise.all(workers.map(async worker => { const reply = worker.next('held'); worker.send({ cmd: 'count' }); return await reply }))
    const held = tallies.reduce((sum, tally) => sum + tally.open, 0)
    // Deliveries outside the scope, and the admitted of broadcasts some process never completed.
    let strays = 0
    for (const tally of tallies) {
      for (const [seq, count] of Object.entries(tally.strays)) {
        strays += count
        reachedBySeq.set(Number(seq), (reachedBySeq.get(Number(seq)) ?? 0) + count)
      }
      for (const [seq, count] of Object.entries(tally.partial)) {
        if (reachedBySeq.has(Number(seq))) reachedBySeq.set(Number(seq), reachedBySeq.get(Number(seq))! + count)
      }
    }
    const reached = [...reachedBySeq.values()]
    if (scopes > 0) {
      const wrong = reached.filter(count => count !== admitted).length
      console.log(`    each broadcast reached ${reachedText(reached, admitted)}; ${strays} deliveries outside the scope`)
      if (strays > 0 || wrong > 0 || incomplete > 0) {
        console.log(`FAIL ${target} N=${n} --scopes ${scopes}: ${wrong} of ${reached.length} broadcasts did not reach exactly the ${admitted} admitted sockets (${strays} deliveries to sockets outside the scope, ${incomplete} broadcasts missed by admitted sockets)`)
        process.exitCode = 1
      }
    }
    // Only the service has the status endpoint (socket.io's server never answers unknown paths).
    const status = target === 'service' || target === 'service-cluster' || target === 'baseline' ? await serverStatus(running.port).catch(() => null) : null
    const instances = target === 'service-cluster' ? status?.instances ?? null : null
    console.log(`    held ${held} of ${opened} opened${status === null ? '' : `; the service counts ${status.total_connections} (with the pinger)`}${instances === null ? '' : `, per worker ${Object.values(instances).join(' + ')}`}`)
    return {
      target,
      n,
      opened,
      failed,
      held,
      instances,
      handshakesPerSec,
      handshakeCpu,
      rssPerConnectionBytes,
      fanoutP50Ms: median(p50s),
      fanoutLastMs: median(lasts),
      pingP99Ms: quantile(rtts, 0.99),
      sustainedEventsPerSec,
      incompleteBroadcasts: incomplete,
      admitted: scopes > 0 ? admitted : null,
      reached: scopes > 0 ? reached : null,
      strays: scopes > 0 ? strays : null
    }
  } finally {
    for (const worker of workers) worker.kill()
    pinger.kill()
    await stopTarget(running)
  }
}

/** How many sockets the broadcasts reached, of the admitted: `300 of 300`, or `299–301 of 300`. */
function reachedText (reached: number[], admitted: number): string {
  if (reached.length === 0) return `none of ${admitted}`
  const low = Math.min(...reached)
  const high = Math.max(...reached)
  return `${low === high ? low : `${low}–${high}`} of ${admitted}`
}

/** The results as a Markdown table, with ratios against `reference` at the same N. */
function table (results: Result[], reference: Target): string {
  const ref = (r: Result): Result | undefined => results.find(x => x.target === reference && x.n === r.n)
  const ratio = (value: number | null, base: number | null | undefined): string =>
    value === null || base === null || base === undefined || !Number.isFinite(base) || base === 0 ? '' : ` (${(value / base).toFixed(2)}×)`
  // The reached column only with --scopes: without, every broadcast is for all N.
  const withReached = results.some(r => r.reached !== null)
  const rows = [['target', 'N', 'opened/failed', 'held', 'handshakes/s', 'CPU/handshake', 'RSS/conn', ...(withReached ? ['reached'] : []), 'fan-out p50', 'fan-out last', 'ping p99', 'sustained ev/s']]
  for (const r of results) {
    const base = ref(r)
    rows.push([
      r.target,
      String(r.n),
      `${r.opened}/${r.failed}`,
      `${r.held}${ratio(r.held, base?.held)}`,
      `${Math.round(r.handshakesPerSec)}${ratio(r.handshakesPerSec, base?.handshakesPerSec)}`,
      `${Math.round(r.handshakeCpu.service)} µs${ratio(r.handshakeCpu.service, base?.handshakeCpu.service)}`,
      `${(r.rssPerConnectionBytes / 1024).toFixed(1)} KB${ratio(r.rssPerConnectionBytes, base?.rssPerConnectionBytes)}`,
      ...(withReached ? [r.reached === null || r.admitted === null ? '' : reachedText(r.reached, r.admitted)] : []),
      `${r.fanoutP50Ms.toFixed(1)} ms${ratio(r.fanoutP50Ms, base?.fanoutP50Ms)}`,
      `${r.fanoutLastMs.toFixed(1)} ms${ratio(r.fanoutLastMs, base?.fanoutLastMs)}${r.incompleteBroadcasts > 0 ? ` [${r.incompleteBroadcasts} incomplete]` : ''}`,
      `${r.pingP99Ms.toFixed(1)} ms${ratio(r.pingP99Ms, base?.pingP99Ms)}`,
      r.sustainedEventsPerSec === null ? '' : `${r.sustainedEventsPerSec}${ratio(r.sustainedEventsPerSec, base?.sustainedEventsPerSec)}`
    ])
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map(row => row[c].length)))
  const line = (row: string[]): string => '| ' + row.map((cell, c) => cell.padEnd(widths[c])).join(' | ') + ' |'
  return [line(rows[0]), '|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n')
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform }
if (args.compression === true) {
  // The compression comparison instead of the main table: bench/compression.ts.
  const { compressionBench } = await import('./compression.js')
  await compressionBench({ sizes, broadcasts, demoSeconds: args['demo-seconds'], out: args.out, machine, startTarget, stopTarget, newWorker: () => new Worker(), httpCall, socketsPerWorker: SOCKETS_PER_WORKER })
  agent.destroy()
  process.exit(process.exitCode ?? 0)
}
let interrupted = false
let interruptedAt = 0
process.on('SIGINT', () => {
  if (!interrupted) {
    interrupted = true
    interruptedAt = Date.now()
    console.log('\ninterrupted: finishing the current measurement (Ctrl-C again to stop at once)')
    return
  }
  // One Ctrl-C can arrive twice: from the terminal and relayed by npm/tsx.
  if (Date.now() - interruptedAt < 1000) return
  console.error('stopping every target process')
  killLeftovers()
  process.exit(130)
})
if (args['handshake-pairs'] !== undefined) {
  // The cluster's handshakes against one process's, in alternating bursts instead of the main table: bench/handshake-pairs.ts.
  if (!HAVE_REDIS) fail(`--handshake-pairs: ${REDIS_MISSING}`)
  const { handshakePairs } = await import('./handshake-pairs.js')
  console.log(`bench --handshake-pairs ${args['handshake-pairs']}: sizes ${sizes.join(', ')}; ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}`)
  const clients = Array.from({ length: Math.max(1, Math.ceil(Math.max(...sizes) / SOCKETS_PER_WORKER)) }, () => new Worker())
  try {
    // Every client process answers before the first burst: none is still starting while one is measured.
    await Promise.all(clients.map(async client => { const reply = client.next('held'); client.send({ cmd: 'count' }); await reply }))
    const burst = async (running: Running, target: Target, n: number, label: string): Promise<Connected> => {
      const workers = clients.slice(0, Math.max(1, Math.ceil(n / SOCKETS_PER_WORKER)))
      const connected = await connectPhase(running, workers, n, label)
      await Promise.all(workers.map(async worker => { const closed = worker.next('closed'); worker.send({ cmd: 'close' }); await closed }))
      await untilEmpty(running, `${target}'s burst connections`)
      return connected
    }
    let bursts = 0
    await handshakePairs<Running>({
      sizes,
      pairs: args['handshake-pairs'],
      out: args.out,
      machine,
      start: async target => await startTarget(target, `pairs-${target}`),
      stop: stopTarget,
      // The same clients as the bursts, so their code is as warm as the server's.
      warm: async (running, target, n) => {
        const count = Math.min(args.warmup * (target === 'service-cluster' ? args['cluster-workers'] : 1), n)
        if (count > 0) await burst(running, target, count, `pairs-warm-${target}`)
      },
      burst: async (running, target, n) => {
        const connected = await burst(running, target, n, `pairs-${target}-${n}-${++bursts}`)
        return { opened: connected.opened, failed: connected.failed, handshakesPerSec: connected.handshakesPerSec, serviceCpuUs: connected.handshakeCpu.service, clientCpuUs: connected.handshakeCpu.clients }
      },
      interrupted: () => interrupted
    })
  } finally {
    for (const client of clients) client.kill()
  }
  agent.destroy()
  process.exit(process.exitCode ?? 0)
}
console.log(`bench: sizes ${sizes.join(', ')}; targets ${targets.join(', ')}; sustained at N=${sustainedSize};${scopes > 0 ? ` ${scopes} camera scopes, broadcasts for ${CAMERA};` : ''} ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}`)
const runs: Result[] = []
/** The round each run belongs to: a failed run leaves a gap, so rounds are paired by number, not position. */
const roundOf = new Map<Result, number>()
for (let round = 1; round <= repeat; round++) {
  for (const n of sizes) {
    // Alternate the order between rounds, so no target always runs right after the same one.
    for (const target of round % 2 === 1 ? targets : [...targets].reverse()) {
      if (interrupted) break
      console.log(`  ${target} N=${n}${repeat > 1 ? ` (round ${round}/${repeat})` : ''} …`)
      try {
        const started = Date.now()
        const result = await measure(target, n)
        runs.push(result)
        roundOf.set(result, round)
        console.log(`    (${Math.round((Date.now() - started) / 1000)} s)`)
      } catch (err) {
        console.error(`  ${target} N=${n} failed: ${(err as Error).message}`)
      }
    }
  }
}
agent.destroy()

/**
 * With --repeat, each figure is the best of the rounds: on a shared machine
 * noise only ever makes a figure worse, so the best is the least noisy.
 */
function best (group: Result[]): Result {
  const min = (pick: (r: Result) => number): number => Math.min(...group.map(pick).filter(Number.isFinite))
  const max = (pick: (r: Result) => number): number => Math.max(...group.map(pick).filter(Number.isFinite))
  const sustained = group.map(r => r.sustainedEventsPerSec).filter((v): v is number => v !== null)
  return {
    ...group[0],
    opened: min(r => r.opened),
    failed: max(r => r.failed),
    held: min(r => r.held),
    handshakesPerSec: max(r => r.handshakesPerSec),
    rssPerConnectionBytes: min(r => r.rssPerConnectionBytes),
    fanoutP50Ms: min(r => r.fanoutP50Ms),
    fanoutLastMs: min(r => r.fanoutLastMs),
    pingP99Ms: min(r => r.pingP99Ms),
    sustainedEventsPerSec: sustained.length === 0 ? null : Math.max(...sustained),
    incompleteBroadcasts: max(r => r.incompleteBroadcasts),
    // Correctness, not speed: every round's broadcasts, not the best round's.
    reached: group[0].reached === null ? null : group.flatMap(r => r.reached ?? []),
    strays: group[0].strays === null ? null : group.reduce((sum, r) => sum + (r.strays ?? 0), 0)
  }
}
const results: Result[] = []
for (const n of sizes) {
  for (const target of targets) {
    const group = runs.filter(r => r.n === n && r.target === target)
    if (group.length > 0) results.push(best(group))
  }
}
/** Per N, the cluster's handshakes/s over one process's in each round that measured both. */
const roundRatios = sizes.flatMap(n => {
  const handshakes: number[] = []
  for (let round = 1; round <= repeat; round++) {
    const of = (target: Target): Result | undefined => runs.find(r => r.n === n && r.target === target && roundOf.get(r) === round)
    const one = of('service')
    const cluster = of('service-cluster')
    if (one !== undefined && cluster !== undefined) handshakes.push(cluster.handshakesPerSec / one.handshakesPerSec)
  }
  return handshakes.length === 0 ? [] : [{ n, handshakes }]
})
const LOWER_BETTER = '(lower is better except held, handshakes/s and sustained ev/s; CPU/handshake is the server\'s CPU time per connection opened, every process of it, redis-server included)'
let output = table(results, 'ws-reference')
console.log('\n' + output + `\n\nratios in parentheses are against ws-reference at the same N ${LOWER_BETTER}`)
const pair = results.filter(r => r.target === 'service' || r.target === 'service-cluster')
if (pair.some(r => r.target === 'service-cluster') && pair.some(r => r.target === 'service')) {
  const versus = table(pair, 'service')
  output += '\n\nvs service:\n' + versus
  console.log(`\n${args['cluster-workers']} worker(s) on Redis (service-cluster) vs one process (service):\n` + versus + `\n\nratios in parentheses are against service at the same N ${LOWER_BETTER}`)
  if (repeat > 1) {
    // Best against best hides how often a single run falls short; each round's own ratio shows it.
    const lines = roundRatios.map(({ n, handshakes }) =>
      `  N=${n}: ${handshakes.map(r => r.toFixed(2)).join(', ')} (median ${median(handshakes).toFixed(2)}, lowest ${Math.min(...handshakes).toFixed(2)})`)
    output += '\n\nhandshakes/s, service-cluster / service, round by round:\n' + lines.join('\n')
    console.log('\nhandshakes/s, service-cluster / service, round by round (both measured in the same round):\n' + lines.join('\n'))
  }
}
mkdirSync(join(here, 'results'), { recursive: true })
const out = args.out ?? join(here, 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, sizes, sustainedSize, broadcasts, repeat, scopes, camera: CAMERA, results, runs, roundRatios, table: output }, null, 2))
console.log(`results written to ${out}`)
