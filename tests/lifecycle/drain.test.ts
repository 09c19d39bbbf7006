import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import t from 'tap'
import { Client, connect, startServer, TEST_SECRET, token } from '../helper.js'

t.test('a drain turns /readyz 503, tells every client to reconnect, and refuses new upgrades with 1012', async t => {
  const server = await startServer(t, { RECONNECT_SPREAD_MS: 3000 })
  t.same(await (await fetch(`${server.url}/readyz`)).json(), { status: 'ready' })
  const clients = await Promise.all(Array.from({ length: 20 }, async (_, i) => await connect(server, t, `user-${i}`)))

  const result = await server.app.drain()
  t.same(result, { told: 20, terminated: 0 }, 'every client answered the close')
  for (const client of clients) {
    const status = await client.next(m => m.type === 'connection_status' && m.status === 'server_restart')
    t.ok(Number.isInteger(status.reconnect_in_ms) && (status.reconnect_in_ms as number) >= 0 && (status.reconnect_in_ms as number) < 3000, 'reconnect_in_ms within RECONNECT_SPREAD_MS')
    t.equal((await client.closed).code, 1012)
  }
  const delays = new Set(clients.map(c => c.messages.find(m => m.status === 'server_restart')?.reconnect_in_ms))
  t.ok(delays.size > 1, 'the reconnects are spread')

  const ready = await fetch(`${server.url}/readyz`)
  t.equal(ready.status, 503)
  t.same(await ready.json(), { status: 'draining' })
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'liveness is unaffected')

  const late = await Client.open(`${server.wsUrl}?token=${token('late')}`, t)
  const closed = await late.closed
  t.equal(closed.code, 1012)
  t.match(closed.reason, /restarting/)
  t.same(await server.app.drain(), result, 'a second drain returns the first one')
})

t.test('a client that never answers the close is dropped at the deadline', async t => {
  const server = await startServer(t)
  const healthy = await connect(server, t, 'healthy')
  const stalled = await connect(server, t, 'stalled')
  // Stop reading: the close frame is never seen, so never answered.
  ;(stalled.ws as unknown as { _socket: { pause: () => void } })._socket.pause()

  const result = await server.app.drain({ timeoutMs: 300 })
  t.same(result, { told: 2, terminated: 1 })
  t.equal((await healthy.closed).code, 1012)
  t.equal(server.app.hub.size, 0)
})

t.test('SIGTERM drains the real process and it exits within SHUTDOWN_TIMEOUT_MS', async t => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '1000', NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  const lines: Array<Record<string, unknown>> = []
  let address: string | undefined
  for await (const line of createInterface({ input: child.stdout })) {
    const entry = JSON.parse(line) as Record<string, unknown>
    lines.push(entry)
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg))
    if (match !== null) {
      address = match[1]
      break
    }
  }
  t.ok(address, 'the server logged where it listens')
  const wsUrl = `${address!.replace('http', 'ws')}/api/ws/statistics`
  const client = await Client.open(`${wsUrl}?token=${token('alice')}`, t)
  await client.next(m => m.status === 'connected')
  const stalled = await Client.open(`${wsUrl}?token=${token('bob')}`, t)
  await stalled.next(m => m.status === 'connected')
  ;(stalled.ws as unknown as { _socket: { pause: () => void } })._socket.pause()

  child.kill('SIGTERM')
  const status = await client.next(m => m.status === 'server_restart')
  t.type(status.reconnect_in_ms, 'number')
  t.equal((await client.closed).code, 1012)
  const rest = (async () => { for await (const line of createInterface({ input: child.stdout })) lines.push(JSON.parse(line)) })()
  const [code] = await exited
  await rest
  t.equal(code, 0, 'a clean exit even though one client never answered')
  t.ok(lines.some(l => l.msg === 'drained' && l.terminated === 1), 'the stalled client was dropped')
  t.ok(lines.some(l => l.msg === 'shutdown complete'))
})
