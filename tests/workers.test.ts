import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { WORKER_EXIT_MARGIN_MS } from '../src/config/settings.js'
import { connect, publishEvent, token } from './helper.js'
import { eventually, NEEDS_REDIS, RedisServer, spawnInstance } from './redis.js'

t.test('WORKERS=2 runs two worker processes on one port that behave as one service', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const service = await spawnInstance(t, { REDIS_URL: redis.url, WORKERS: '2' })
  const server = service.server
  const admin = `Bearer ${token('root', { roles: ['admin'] })}`
  const instanceCount = async (): Promise<number> => {
    const response = await fetch(`${service.url}/api/ws/status`, { headers: { authorization: admin } })
    return Object.keys((await response.json() as { instances: Record<string, number> }).instances).length
  }
  // The second worker may still be starting when the first answers.
  await eventually(async () => await instanceCount() === 2, 'both workers to register')

  const clients = []
  for (let i = 0; i < 6; i++) clients.push(await connect(server, t, `user-${i}`))
  const response = await fetch(`${service.url}/api/ws/status`, { headers: { authorization: admin } })
  const status = await response.json() as { total_connections: number, instances: Record<string, number> }
  t.equal(status.total_connections, 6)
  t.ok(Object.values(status.instances).every(count => count > 0), 'the port hands connections to both workers')

  const published = await publishEvent(server, { camera_id: 'door', event_type: 'motion_detected' })
  const { seq } = await published.json() as { seq: number }
  for (const client of clients) await client.next(message => message.type === 'camera_event' && message.seq === seq)
  t.pass('an event reaches the connections of both workers')

  const exited = once(service.child, 'exit')
  service.child.kill('SIGTERM')
  for (const client of clients) t.equal((await client.closed).code, 1012, 'each worker drains its connections with 1012')
  t.same(await exited, [0, null], 'the primary exits 0 once its workers stopped')
})

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
