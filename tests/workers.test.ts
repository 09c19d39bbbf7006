import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { WORKER_EXIT_MARGIN_MS } from '../src/config/settings.js'
import { connect, publishEvent, token, tryUpgrade } from './helper.js'
import { eventually, NEEDS_REDIS, RedisServer, spawnInstance } from './redis.js'

for (const accept of ['shared', 'round-robin']) {
  t.test(`WORKERS=2 (WORKER_ACCEPT=${accept}) runs two worker processes on one port that behave as one service`, { skip: NEEDS_REDIS }, async t => {
    const redis = await RedisServer.start(t)
    const service = await spawnInstance(t, { REDIS_URL: redis.url, WORKERS: '2', WORKER_ACCEPT: accept })
    const server = service.server
    const admin = `Bearer ${token('root', { roles: ['admin'] })}`
    const status = async (): Promise<{ total_connections: number, instances: Record<string, number> }> => {
      const response = await fetch(`${service.url}/api/ws/status`, { headers: { authorization: admin } })
      return await response.json() as { total_connections: number, instances: Record<string, number> }
    }
    // The second worker may still be starting when the first answers.
    await eventually(async () => Object.keys((await status()).instances).length === 2, 'both workers to register')

    // Round robin alternates; with a shared socket the kernel picks, so open
    // until both have some (a few at most, unless one never gets any).
    const clients = []
    while (clients.length < 6 || (clients.length < 40 && !Object.values((await status()).instances).every(count => count > 0))) {
      clients.push(await connect(server, t, `user-${clients.length}`))
    }
    const counted = await status()
    t.equal(counted.total_connections, clients.length)
    t.ok(Object.values(counted.instances).every(count => count > 0), `the port hands connections to both workers (${Object.values(counted.instances).join(' + ')})`)

    const published = await publishEvent(server, { camera_id: 'door', event_type: 'motion_detected' })
    const { seq } = await published.json() as { seq: number }
    for (const client of clients) await client.next(message => message.type === 'camera_event' && message.seq === seq)
    t.pass('an event reaches the connections of both workers')

    const exited = once(service.child, 'exit')
    service.child.kill('SIGTERM')
    const codes = await Promise.all(clients.map(async client => (await client.closed).code))
    t.ok(codes.every(code => code === 1012), 'each worker drains its connections with 1012')
    t.same(await exited, [0, null], 'the primary exits 0 once its workers stopped')
  })
}

/** Whether a process still runs (a zombie waiting to be reaped does not). */
function running (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // The state follows the command name in parentheses: Z is a zombie.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

t.test('WORKERS=2: a worker that does not stop is killed SHUTDOWN_TIMEOUT_MS plus a margin after SIGTERM; a deprecated name is warned about once', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const service = await spawnInstance(t, { REDIS_URL: redis.url, WORKERS: '2', SHUTDOWN_TIMEOUT_MS: '1000', REDIS_HISTORY_SIZE: '500' })
  const logLines = (): Array<Record<string, unknown>> => service.output().split('\n')
    .filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Record<string, unknown>)
  const listening = (): number[] => logLines().filter(line => String(line.msg).startsWith('Server listening at')).map(line => line.pid as number)
  await eventually(async () => listening().length === 2, 'both workers to listen')

  // A stopped process cannot handle SIGTERM, nor its own shutdown timer: only the primary can end it.
  const [stuck] = listening()
  process.kill(stuck, 'SIGSTOP')
  t.teardown(() => { if (running(stuck)) process.kill(stuck, 'SIGKILL') })
  const exited = once(service.child, 'exit')
  service.child.kill('SIGTERM')
  t.same(await exited, [1, null], 'the primary exits 1: a worker had to be killed')
  t.match(logLines().find(line => line.msg === 'workers did not stop in time; killing them'),
    { timeoutMs: 1000 + WORKER_EXIT_MARGIN_MS, workerPids: [stuck] }, 'it waited SHUTDOWN_TIMEOUT_MS plus the margin, for the stuck worker only')
  await eventually(async () => !running(stuck), 'the stuck worker to be gone')
  t.pass('the stuck worker was killed')

  const warnings = logLines().filter(line => typeof line.msg === 'string' && line.msg.startsWith('REDIS_HISTORY_SIZE is deprecated'))
  t.equal(warnings.length, 1, 'the primary warns once; the workers stay quiet')
  t.match(warnings[0], { level: 40, role: 'primary' })
})

t.test('WORKERS=2, WORKER_ACCEPT=shared: a full worker stops accepting, so every handshake goes to the one with room until both are full', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const capacity = 5
  const service = await spawnInstance(t, { REDIS_URL: redis.url, WORKERS: '2', MAX_SOCKETS: String(capacity), LOG_LEVEL: 'debug', MAX_CONNECTIONS_PER_USER: '100' })
  const admin = `Bearer ${token('root', { roles: ['admin'] })}`
  const counts = async (): Promise<Record<string, number>> => {
    const response = await fetch(`${service.url}/api/ws/status`, { headers: { authorization: admin } })
    return (await response.json() as { instances: Record<string, number> }).instances
  }
  const logLines = (): Array<Record<string, unknown>> => service.output().split('\n')
    .filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Record<string, unknown>)
  await eventually(async () => Object.keys(await counts()).length === 2, 'both workers to register')

  // The kernel picks the worker: open one at a time until one of them is full.
  let opened = 0
  let full: string | undefined
  while (full === undefined && opened < 2 * capacity) {
    await connect(service.server, t, `shared-${opened++}`)
    full = Object.entries(await counts()).find(([, count]) => count === capacity)?.[0]
  }
  if (full === undefined) {
    t.fail('no worker filled up')
    return
  }
  // The instance id carries the worker's pid: <host>-<pid>-<random>.
  const fullPid = Number(full.split('-').at(-2))
  await eventually(async () => logLines().some(line => line.pid === fullPid && line.msg === 'stopped accepting connections: the other workers take them'),
    'the full worker to stop accepting')

  // Without the pause about half of these would reach the full worker and get 503.
  while (opened < 2 * capacity) await connect(service.server, t, `shared-${opened++}`)
  t.same(Object.values(await counts()), [capacity, capacity], 'every handshake went to the worker with room')

  // Both full: both accept again, so a handshake is answered 503 at once instead of waiting in the kernel's queue.
  await eventually(async () => logLines().some(line => line.pid === fullPid && line.msg === 'accepting connections again'), 'the full worker to accept again')
  const refused = await tryUpgrade(`${service.wsUrl}?token=${token('shared-extra')}`)
  t.match(refused, { upgraded: false, status: 503 })
  if (!refused.upgraded) t.match(JSON.parse(refused.body), { code: 'PUSH_AT_CAPACITY' })
})
