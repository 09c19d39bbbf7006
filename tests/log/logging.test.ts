import t from 'tap'
import { Client, LogCapture, connect, startServer, token, waitFor } from '../helper.js'

t.test('tokens never appear in any log line; the URL is logged redacted', async t => {
  const logs = new LogCapture()
  const server = await startServer(t, { LOG_LEVEL: 'debug' }, { logStream: logs })
  const secretToken = token('alice')
  const client = await Client.open(`${server.wsUrl}?token=${secretToken}&x=1`, t)
  await client.nextOfType('connection_status')
  const expired = token('alice', { ttlMs: -1000 })
  const refused = await Client.open(`${server.wsUrl}?token=${expired}`, t)
  await refused.closed
  await fetch(`${server.url}/api/ws/statux?token=${secretToken}`, { headers: { authorization: `Bearer ${secretToken}` } })
  await fetch(`${server.url}/api/ws/status`, { headers: { authorization: `Bearer ${secretToken}` } })
  client.ws.close()
  await client.closed
  await waitFor(() => logs.lines.some(line => line.msg === 'websocket connection closed'), 'the close to be logged')

  const all = logs.raw.join('\n')
  t.notOk(all.includes(secretToken), 'the valid token is not logged')
  t.notOk(all.includes(expired), 'the refused token is not logged')
  t.notOk(all.includes(secretToken.split('.')[1]), 'not even its payload')
  const urls = logs.lines.map(line => (line.req as { url?: string } | undefined)?.url).filter(Boolean)
  t.ok(urls.includes('/api/ws/statistics?token=[REDACTED]&x=1'), 'the upgrade URL is logged with the token redacted')
})

t.test('one log line per connection opened and closed, with user, connection id, close code and duration', async t => {
  const logs = new LogCapture()
  const server = await startServer(t, { LOG_LEVEL: 'info' }, { logStream: logs })
  const client = await connect(server, t, 'zoe')
  const connectionId = client.messages[0].connection_id
  client.ws.close(1000)
  await client.closed
  await waitFor(() => logs.lines.some(line => line.msg === 'websocket connection closed'), 'the close to be logged')
  const opened = logs.lines.filter(line => line.msg === 'websocket connection opened')
  const closed = logs.lines.filter(line => line.msg === 'websocket connection closed')
  t.equal(opened.length, 1)
  t.equal(closed.length, 1)
  t.match(opened[0], { userId: 'zoe', connectionId })
  t.match(closed[0], { userId: 'zoe', connectionId, closeCode: 1000, durationMs: Number })
})

t.test('a token hidden by percent-encoding (?%74oken=, dots as %2E, every character escaped) never reaches a log line', async t => {
  const logs = new LogCapture()
  const server = await startServer(t, { LOG_LEVEL: 'debug' }, { logStream: logs })
  const secretToken = token('alice')
  const dotted = secretToken.replace(/\./g, '%2E')
  const every = [...secretToken].map(c => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')
  // The query parser decodes both: this authenticates.
  const client = await Client.open(`${server.wsUrl}?%74oken=${dotted}&x=1`, t)
  t.match(await client.next(), { status: 'connected', user_id: 'alice' }, 'the encoded name and value authenticate')
  const second = await Client.open(`${server.wsUrl}?to%6Ben=${every}`, t)
  t.match(await second.next(), { status: 'connected' }, 'so does a fully escaped token')
  await fetch(`${server.url}/api/nowhere/${dotted}?q=${every}`)
  client.ws.close()
  second.ws.close()
  await waitFor(() => logs.lines.filter(line => line.msg === 'websocket connection closed').length === 2, 'the closes to be logged')
  await waitFor(() => logs.lines.some(line => (line.res as { statusCode?: number } | undefined)?.statusCode === 404), 'the 404 to be logged')

  const all = logs.raw.join('\n')
  const [header, payload, signature] = secretToken.split('.')
  for (const [what, piece] of [['payload', payload], ['signature', signature], ['dotted form', dotted], ['escaped form', every], ['escaped payload', every.slice(header.length * 3 + 3, header.length * 3 + 3 + 30)]]) {
    t.notOk(all.includes(piece), `the token's ${what} is not logged`)
  }
  const urls = logs.lines.map(line => (line.req as { url?: string } | undefined)?.url).filter(Boolean)
  t.ok(urls.includes('/api/ws/statistics?%74oken=[REDACTED]&x=1'), 'the upgrade URL is logged with the token redacted')
  t.ok(urls.includes('/api/ws/statistics?to%6Ben=[REDACTED]'))
  t.ok(urls.includes('/api/nowhere/[REDACTED]?q=[REDACTED]'), 'a token with encoded dots in a path, and escaped in any parameter, is redacted')
})
