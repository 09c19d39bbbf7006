/**
 * `npm run loadtest`: opens many authenticated WebSocket connections to a
 * running service on this machine and reports what sizing a deployment
 * needs: connection success, handshake and first-message times, delivery
 * latency of events it publishes itself, throughput, missing events and the
 * service's status before and after.
 *
 *   npm run loadtest -- --url ws://127.0.0.1:8000/api/ws/statistics \
 *     --connections 5000 --ramp 500 --duration 30 --publish-rate 10
 *
 * Tokens are signed with --secret (or JWT_SECRET, or the development
 * secret), or obtained from --token-cmd, a shell command run once per user
 * with {user} and {roles} replaced, e.g.
 *   --token-cmd 'npm run -s token -- --user {user} --roles {roles}'
 *
 * It only targets this machine (127.0.0.0/8, localhost, ::1) unless
 * --allow-remote is given, and it is bounded: at most 100,000 connections
 * and one hour. Sockets are spread over worker processes (≤ 18,000 each,
 * the open-file limit) and over source addresses 127.0.0.1, .2, …
 * (≤ 25,000 each, the ephemeral ports of one address). Ctrl-C stops it and
 * still prints the table.
 *
 * It fails (exit 1) when more connections fail to open or are closed by the
 * service than --max-failed, more events go missing than --max-gaps, or more
 * publishes fail than --max-publish-failures (all 0 by default), and prints
 * for each kind of refusal the service setting to raise (scripts/loadtest/
 * verdict.ts). Usage errors exit 2.
 */
import { exec, fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { signToken } from '../src/auth/sign.js'
import { DEVELOPMENT_JWT_SECRET } from '../src/config.js'
import { mergeEncoded, newHistogram, summarize, type Summary } from './loadtest/histogram.js'
import type { Assignment, FromWorker, ToWorker, WorkerProgress, WorkerReport } from './loadtest/protocol.js'
import { judge } from './loadtest/verdict.js'
import { parseCli, usageError } from './lib/cli.js'

const MAX_CONNECTIONS = 100_000
const MAX_DURATION_S = 3600
/** How long the workers have to report once told to stop; one that has not is named in the verdict. */
const REPORT_WAIT_MS = 15_000
/** How long they then have to close their sockets with a close frame before they are killed. */
const CLOSE_WAIT_MS = 10_000
/** How long, after the measured time, the last events have to reach every socket before the run stops. */
const DELIVERY_WAIT_MS = 10_000
// Overridable only to try the spreading with few sockets.
const PER_PROCESS = Number(process.env.LOADTEST_PER_PROCESS ?? 18_000)
/** LOADTEST_CPU_PROF_DIR=dir writes a CPU profile of every client process, to tell the clients' cost from the service's. */
const PROFILE_ARGS = process.env.LOADTEST_CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', process.env.LOADTEST_CPU_PROF_DIR]
const PER_ADDRESS = Number(process.env.LOADTEST_PER_ADDRESS ?? 25_000)

const values = parseCli({
  name: 'loadtest',
  command: 'npm run loadtest --',
  summary: `Opens many authenticated WebSocket connections to a running service on this machine,
publishes its own events and reports connection success, handshake, first-message and
delivery times, throughput, missing events and the service's status before and after.
Exits 1 when more connections fail, events go missing or publishes fail than the
--max-* options allow (default: none), with the service settings to raise; 2 on a usage
error; 130 when interrupted (Ctrl-C still prints the table).`,
  options: {
    url: { type: 'string', arg: '<ws-url>', default: 'ws://127.0.0.1:8000/api/ws/statistics', help: 'the service\'s WebSocket endpoint (this machine only unless --allow-remote)' },
    connections: { type: 'integer', default: 1000, min: 1, max: MAX_CONNECTIONS, help: 'connections to open' },
    users: { type: 'integer', min: 1, max: MAX_CONNECTIONS, help: 'distinct users (default: connections / 5, enough for MAX_CONNECTIONS_PER_USER)' },
    secret: { type: 'string', arg: '<secret>', help: 'sign tokens with this secret (default JWT_SECRET, else the development secret)' },
    'token-cmd': { type: 'string', arg: '<cmd>', help: 'shell command printing a token, run once per user with {user} and {roles} replaced' },
    ramp: { type: 'number', default: 200, min: 1, max: 100_000, help: 'connections opened per second' },
    duration: { type: 'number', default: 30, min: 1, max: MAX_DURATION_S, help: 'seconds to measure once connected' },
    'publish-rate': { type: 'number', default: 5, min: 0, max: 10_000, help: 'events published per second (0: none)' },
    'max-failed': { type: 'integer', default: 0, min: 0, max: MAX_CONNECTIONS, help: 'connections that may fail to open or be closed by the service before the run fails' },
    'max-gaps': { type: 'integer', default: 0, min: 0, help: 'events that may be missing (sequence gaps, summed over sockets) before the run fails' },
    'max-publish-failures': { type: 'integer', default: 0, min: 0, help: 'events that may fail to publish before the run fails' },
    out: { type: 'string', arg: '<report.json>', help: 'also write the report as JSON' },
    'allow-remote': { type: 'boolean', help: 'allow a target that is not this machine (one you are responsible for)' }
  },
  examples: [
    'npm run loadtest -- --url ws://127.0.0.1:8000/api/ws/statistics --connections 5000 --ramp 500 --duration 30 --publish-rate 10',
    "npm run loadtest -- --token-cmd 'npm run -s token -- --user {user} --roles {roles}'",
    'npm run loadtest -- --connections 2000 --max-failed 20 --max-gaps 0'
  ]
})
function fail (message: string): never {
  return usageError('loadtest', message)
}
const connections = values.connections
const ramp = values.ramp
const durationS = values.duration
const publishRate = values['publish-rate']
if (values.secret !== undefined && values['token-cmd'] !== undefined) fail('pass either --secret or --token-cmd, not both')

let wsUrl: URL
try {
  wsUrl = new URL(values.url.replace(/^http/, 'ws'))
} catch {
  fail(`--url ${JSON.stringify(values.url)} is not a URL; use e.g. ws://127.0.0.1:8000/api/ws/statistics`)
}
if (wsUrl.protocol !== 'ws:' && wsUrl.protocol !== 'wss:') fail('--url must be a ws:// (or wss://) URL')
const host = wsUrl.hostname.replace(/^\[|\]$/g, '')
const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))
if (!loopback && values['allow-remote'] !== true) {
  fail(`refusing to load-test ${host}: only this machine (127.0.0.0/8, localhost, ::1) is a target unless you pass --allow-remote for a host you are responsible for`)
}
// Several source addresses only work towards loopback (127.0.0.x can only reach 127.0.0.x).
const addressCount = Math.ceil(connections / PER_ADDRESS)
if (addressCount > 1 && !(isIP(host) === 4 && host.startsWith('127.'))) {
  fail(`more than ${PER_ADDRESS} connections need several 127.0.0.x source addresses: use --url with a 127.x.x.x address`)
}
const httpBase = `${wsUrl.protocol === 'wss:' ? 'https' : 'http'}://${wsUrl.host}`

// ---- tokens ----------------------------------------------------------------

const run = promisify(exec)

/** A token for `user`: signed here, or printed by --token-cmd ({user} and {roles} replaced). */
async function tokenFor (user: string, roles: string[]): Promise<string> {
  if (values['token-cmd'] !== undefined) {
    const command = values['token-cmd'].replaceAll('{user}', user).replaceAll('{roles}', roles.join(','))
    try {
      const { stdout } = await run(command, { encoding: 'utf8' })
      const token = stdout.trim().split('\n').at(-1)?.trim() ?? ''
      if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) throw new Error(`its last output line is not a JWT: ${JSON.stringify(token.slice(0, 40))}`)
      return token
    } catch (err) {
      fail(`--token-cmd failed for user ${user}: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  const key = values.secret ?? (process.env.JWT_SECRET !== undefined && process.env.JWT_SECRET !== '' ? process.env.JWT_SECRET : DEVELOPMENT_JWT_SECRET)
  return signToken({ sub: user, ...(roles.length > 0 ? { roles } : {}) }, { key, ttlMs: (durationS + 3600) * 1000 })
}

const adminToken = await tokenFor('loadtest-publisher', ['publisher', 'admin'])

async function status (): Promise<Record<string, unknown> | { error: string }> {
  try {
    const response = await fetch(`${httpBase}/api/ws/status`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5000) })
    const body = await response.json() as Record<string, unknown>
    if (!response.ok) return { error: `HTTP ${response.status}: ${String(body.message ?? '')}` }
    const { users: _users, ...rest } = body
    return rest
  } catch (err) {
    return { error: (err as Error).message }
  }
}

// ---- plan ------------------------------------------------------------------

const before = await status()
if ('error' in before) fail(`the service at ${httpBase} did not answer GET /api/ws/status (${before.error}); is it running, and does the token fit its key?`)
const perUser = Number(before.max_connections_per_user ?? 5)
const minUsers = Math.ceil(connections / perUser)
const users = values.users ?? Math.max(minUsers, Math.ceil(connections / 5))
if (users < minUsers) fail(`--users ${users} is too few: the service allows ${perUser} connections per user, so ${connections} connections need at least ${minUsers} users`)

// One token per user; --token-cmd runs eight commands at a time.
const tokens: string[] = new Array<string>(users)
let nextUser = 0
await Promise.all(Array.from({ length: values['token-cmd'] === undefined ? 1 : 8 }, async () => {
  while (nextUser < users) {
    const i = nextUser++
    tokens[i] = await tokenFor(`loadtest-${i}`, [])
  }
}))

// Addresses first (≤ PER_ADDRESS each), then processes (≤ PER_PROCESS each).
// From 127.0.0.2 on: the source ports chosen below must not meet the ephemeral
// ports other programs (and the service's own Redis clients) use on 127.0.0.1.
const addresses = Array.from({ length: addressCount }, (_, i) => addressCount === 1 && !host.startsWith('127.') ? '' : `127.0.0.${i + 2}`)
const workerCount = Math.ceil(connections / PER_PROCESS)
const plans: Assignment[][] = Array.from({ length: workerCount }, () => [])
let remaining = connections
let address = 0
let addressLeft = PER_ADDRESS
// Each local address gets a block of source ports that avoids the target's port
// (a service listening on every address holds it on ours too).
const targetPort = Number(wsUrl.port || (wsUrl.protocol === 'wss:' ? 443 : 80))
const PORT_BASE = targetPort < 20_000 || targetPort >= 20_000 + PER_ADDRESS
  ? 20_000
  : targetPort + 1 + PER_ADDRESS <= 65_536 ? targetPort + 1 : targetPort - PER_ADDRESS
const localPorts = host.startsWith('127.') && PER_ADDRESS <= 45_000
for (let w = 0; w < workerCount; w++) {
  let room = Math.min(PER_PROCESS, Math.ceil(remaining / (workerCount - w)))
  remaining -= room
  while (room > 0) {
    const take = Math.min(room, addressLeft)
    plans[w].push({ count: take, localAddress: addresses[address], firstPort: localPorts ? PORT_BASE + PER_ADDRESS - addressLeft : 0 })
    room -= take
    addressLeft -= take
    if (addressLeft === 0) { address++; addressLeft = PER_ADDRESS }
  }
}

// ---- run -------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url))
const runId = randomUUID()
const progress = new Map<ChildProcess, WorkerProgress>()
const reports = new Map<ChildProcess, WorkerReport>()
let offset = 0
const workers = plans.map(plan => {
  const child = fork(join(here, 'loadtest', 'worker.ts'), [], { execArgv: ['--import', 'tsx', ...PROFILE_ARGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  child.on('message', (message: FromWorker) => {
    if (message.ev === 'progress') progress.set(child, message)
    else reports.set(child, message)
  })
  const count = plan.reduce((sum, a) => sum + a.count, 0)
  const command: ToWorker = { cmd: 'start', url: wsUrl.toString(), tokens, offset, assignments: plan.map(a => ({ ...a, localAddress: a.localAddress || '127.0.0.1' })), ramp: ramp * count / connections, runId }
  if (!host.startsWith('127.')) for (const a of command.assignments) { a.localAddress = ''; a.firstPort = 0 }
  offset += count
  child.send(command)
  return child
})

const startedAt = performance.now()
const rampSeconds = connections / ramp
let phase: 'connecting' | 'running' | 'stopping' = 'connecting'
let runStartedAt = 0
let receivedAtRunStart = 0
let published = 0
let publishFailures = 0
/** Publishes sent and not answered yet. */
let publishesPending = 0
/** When the measured time ended, and the messages received by then (the wait for the last deliveries is not part of it). */
let runEndedAt = 0
let receivedAtRunEnd = 0
/** Deliveries of this run's events the open sockets should have had at the end; 0 when not known. */
let expectedDeliveries = 0
/** Failed publishes by `HTTP <status>` or `error`, for the hints. */
const publishFailuresByStatus: Record<string, number> = {}
function publishFailed (key: string): void {
  publishFailures++
  publishFailuresByStatus[key] = (publishFailuresByStatus[key] ?? 0) + 1
}

function totals (): { opened: number, failed: number, open: number, received: number, delivered: number } {
  const sum = { opened: 0, failed: 0, open: 0, received: 0, delivered: 0 }
  for (const p of progress.values()) {
    sum.opened += p.opened
    sum.failed += p.failed
    sum.open += p.open
    sum.received += p.received
    sum.delivered += p.delivered
  }
  return sum
}

const tty = process.stderr.isTTY === true
function drawProgress (): void {
  const t = totals()
  const elapsed = (performance.now() - startedAt) / 1000
  const done = phase === 'connecting' ? (t.opened + t.failed) / connections : Math.min(1, (performance.now() - runStartedAt) / 1000 / durationS)
  const width = 30
  const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '-')
  const line = `[${bar}] ${phase.padEnd(10)} ${t.open}/${connections} open, ${t.failed} failed, ${t.received} msgs, ${published} published, ${elapsed.toFixed(1)}s`
  if (tty) process.stderr.write(`\r${line}\x1b[K`)
  else if (Math.round(elapsed * 4) % 8 === 0) process.stderr.write(line + '\n')
}
const progressTimer = setInterval(drawProgress, 250)

const agentHeaders = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }
let publishTimer: NodeJS.Timeout | undefined
function startPublishing (): void {
  if (publishRate <= 0) return
  const began = performance.now()
  publishTimer = setInterval(() => {
    const due = Math.floor((performance.now() - began) * publishRate / 1000)
    while (published < due) {
      published++
      publishesPending++
      const body = JSON.stringify({ camera_id: 'loadtest', event_type: 'loadtest', data: { t: performance.timeOrigin + performance.now(), run: runId } })
      fetch(`${httpBase}/api/events`, { method: 'POST', headers: agentHeaders, body, signal: AbortSignal.timeout(10_000) })
        .then(async response => {
          if (response.status !== 202) publishFailed(`HTTP ${response.status}`)
          await response.arrayBuffer()
        })
        .catch(() => { publishFailed('error') })
        .finally(() => { publishesPending-- })
    }
  }, Math.max(5, Math.min(100, 1000 / publishRate)))
}

/**
 * Waits until every event published (and accepted) has reached every open
 * socket, at most DELIVERY_WAIT_MS: the slowest deliveries of the last
 * event are counted instead of cut off by the stop, and any still missing
 * then are reported as such.
 */
async function lastDeliveries (): Promise<void> {
  const deadline = performance.now() + DELIVERY_WAIT_MS
  for (;;) {
    const t = totals()
    expectedDeliveries = (published - publishFailures - publishesPending) * t.open
    if ((publishesPending === 0 && t.delivered >= expectedDeliveries) || performance.now() > deadline) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

let finishing: Promise<boolean> | undefined
/** Stops, prints the report; true when the run passed its thresholds. */
async function finish (reason: string): Promise<boolean> {
  if (finishing !== undefined) return await finishing
  finishing = (async () => {
    const runSeconds = runStartedAt === 0 ? 0 : ((runEndedAt || performance.now()) - runStartedAt) / 1000
    const receivedInRun = (runEndedAt === 0 ? totals().received : receivedAtRunEnd) - receivedAtRunStart
    phase = 'stopping'
    clearInterval(publishTimer)
    const after = await status()
    const reported = Promise.all(workers.map(async child => {
      if (reports.has(child) || child.exitCode !== null) return
      await new Promise<void>(resolve => {
        child.on('message', (m: FromWorker) => { if (m.ev === 'report') resolve() })
        child.on('exit', () => resolve())
      })
    }))
    for (const child of workers) if (child.connected) child.send({ cmd: 'stop' } satisfies ToWorker)
    await Promise.race([reported, new Promise(resolve => setTimeout(resolve, REPORT_WAIT_MS))])
    // Reported; each worker then closes its sockets with a close frame, as a
    // browser leaving would. Those still closing after the wait are killed.
    const exited = Promise.all(workers.map(async child => {
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    }))
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, CLOSE_WAIT_MS))])
    clearInterval(progressTimer)
    drawProgress()
    if (tty) process.stderr.write('\n')
    for (const child of workers) child.kill('SIGKILL')
    return printReport(reason, runSeconds, receivedInRun, after)
  })()
  return await finishing
}

function sumRecords (records: Array<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {}
  for (const record of records) for (const [key, value] of Object.entries(record)) sum[key] = (sum[key] ?? 0) + value
  return sum
}

function printReport (reason: string, runSeconds: number, receivedInRun: number, after: Record<string, unknown>): boolean {
  const all = [...reports.values()]
  const merged = (key: 'connect' | 'firstMessage' | 'delivery'): Summary => {
    const histogram = newHistogram()
    for (const report of all) mergeEncoded(histogram, report[key])
    return summarize(histogram)
  }
  const report = {
    reason,
    url: wsUrl.toString(),
    connections,
    users,
    workers: workers.length,
    sourceAddresses: addresses.filter(a => a !== '').length || 1,
    durationSeconds: Math.round(runSeconds * 10) / 10,
    opened: all.reduce((s, r) => s + r.opened, 0),
    failed: all.reduce((s, r) => s + r.failed, 0),
    failuresByCloseCode: sumRecords(all.map(r => r.failures)),
    closesDuringRunByCode: sumRecords(all.map(r => r.closes)),
    connectMs: merged('connect'),
    firstMessageMs: merged('firstMessage'),
    deliveryMs: merged('delivery'),
    published,
    publishFailures,
    publishFailuresByStatus,
    messagesPerSecond: runSeconds > 0 ? Math.round(receivedInRun / runSeconds) : 0,
    missingEvents: all.reduce((s, r) => s + r.missing, 0),
    deliveries: all.reduce((s, r) => s + r.delivered, 0),
    expectedDeliveries,
    undelivered: Math.max(0, expectedDeliveries - all.reduce((s, r) => s + r.delivered, 0)),
    workersReported: all.length,
    statusBefore: before,
    statusAfter: after
  }
  const f = (s: Summary): string => s.count === 0 ? 'n/a' : `${s.p50} / ${s.p95} / ${s.p99} / ${s.max}`
  const rows: Array<[string, string]> = [
    ['connections opened / failed', `${report.opened} / ${report.failed}${report.failed > 0 ? ` (${Object.entries(report.failuresByCloseCode).map(([c, n]) => `${c}: ${n}`).join(', ')})` : ''}`],
    ['closed during the run', Object.keys(report.closesDuringRunByCode).length === 0 ? '0' : Object.entries(report.closesDuringRunByCode).map(([c, n]) => `${c}: ${n}`).join(', ')],
    ['connect ms p50 / p95 / p99 / max', f(report.connectMs)],
    ['first message ms p50 / p95 / p99 / max', f(report.firstMessageMs)],
    ['delivery ms p50 / p95 / p99 / max', `${f(report.deliveryMs)} (${report.deliveryMs.count} deliveries)`],
    ['events published / failed', `${published} / ${publishFailures}`],
    ['messages received per second', String(report.messagesPerSecond)],
    ['missing events (seq gaps)', String(report.missingEvents)],
    ['deliveries / expected at the end', report.expectedDeliveries === 0 ? 'n/a' : `${report.deliveries} / ${report.expectedDeliveries}`],
    ['status before', JSON.stringify(before)],
    ['status after', JSON.stringify(after)]
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  console.log(`\nload test ${reason}: ${connections} connections (${users} users, ${workers.length} worker process${workers.length === 1 ? '' : 'es'}, ${report.sourceAddresses} source address${report.sourceAddresses === 1 ? '' : 'es'}), ${report.durationSeconds}s measured`)
  for (const [key, value] of rows) console.log(`  ${key.padEnd(width)}  ${value}`)
  const verdict = judge(report, { maxFailed: values['max-failed'], maxGaps: values['max-gaps'], maxPublishFailures: values['max-publish-failures'] })
  for (const hint of verdict.hints) console.log(`  hint: ${hint}`)
  if (values.out !== undefined) {
    writeFileSync(values.out, JSON.stringify({ ...report, verdict }, null, 2))
    console.log(`report written to ${values.out}`)
  }
  if (reason !== 'interrupted') console.log(verdict.pass ? 'loadtest: PASS' : `loadtest: FAIL (${verdict.problems.join('; ')})`)
  return verdict.pass
}

process.on('SIGINT', () => {
  process.stderr.write('\ninterrupted: stopping and reporting what was measured\n')
  void finish('interrupted').then(() => process.exit(130))
})

// Connect phase: until every socket opened or failed, bounded by twice the ramp time plus 30 s.
const connectDeadline = performance.now() + (rampSeconds * 2 + 30) * 1000
while (phase === 'connecting') {
  const t = totals()
  if (t.opened + t.failed >= connections || performance.now() > connectDeadline) break
  await new Promise(resolve => setTimeout(resolve, 100))
}
if (finishing === undefined && totals().opened === 0) {
  // Nothing to measure: say why at once instead of waiting out --duration.
  process.exit(await finish('finished without connections') ? 0 : 1)
} else if (finishing === undefined) {
  phase = 'running'
  runStartedAt = performance.now()
  receivedAtRunStart = totals().received
  startPublishing()
  await new Promise(resolve => setTimeout(resolve, durationS * 1000))
  runEndedAt = performance.now()
  receivedAtRunEnd = totals().received
  clearInterval(publishTimer)
  if (publishRate > 0) await lastDeliveries()
  process.exit(await finish('finished') ? 0 : 1)
}
