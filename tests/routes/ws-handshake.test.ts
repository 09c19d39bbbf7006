import t from 'tap'
import { Client, connect, startServer, token, waitFor } from '../helper.js'
import { signToken } from '../../src/auth/sign.js'

t.test('a valid token gets connection_status connected first', async t => {
  const server = await startServer(t)
  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}`, t)
  const first = await client.next()
  t.equal(first.type, 'connection_status')
  t.equal(first.status, 'connected')
  t.equal(first.user_id, 'alice')
  t.equal(first.message, 'WebSocket connection established successfully')
  t.match(first.connection_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  t.equal(new Date(first.timestamp as string).toISOString(), first.timestamp, 'timestamp is ISO-8601 UTC')
})

t.test('connected tells the statistics interval, so a dashboard can tell late statistics from quiet ones', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 750 })
  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}`, t)
  t.match(await client.next(), { status: 'connected', stats_interval_ms: 750 })
})

t.test('the token may come in an Authorization header', async t => {
  const server = await startServer(t)
  const client = await Client.open(server.wsUrl, t, { headers: { authorization: `Bearer ${token('bob')}` } })
  const first = await client.next()
  t.equal(first.user_id, 'bob')
})

t.test('a numeric sub is taken as its string', async t => {
  const server = await startServer(t)
  const client = await Client.open(`${server.wsUrl}?token=${signToken({ sub: 42 as unknown as string }, { key: 'test-secret-with-at-least-32-bytes!!' })}`, t)
  t.equal((await client.next()).user_id, '42')
})

const refusals: Array<[string, (wsUrl: string) => string, RegExp]> = [
  ['a missing token', url => url, /^missing token/],
  ['a malformed token', url => `${url}?token=not-a-jwt`, /^malformed token/],
  ['a bad signature', url => `${url}?token=${signToken({ sub: 'a' }, { key: 'some-other-secret-of-enough-length!!' })}`, /^bad token signature/],
  ['an expired token', url => `${url}?token=${token('a', { ttlMs: -1000 })}`, /^token expired/],
  ['a token without sub', url => `${url}?token=${signToken({} as { sub: string }, { key: 'test-secret-with-at-least-32-bytes!!' })}`, /sub claim/]
]
for (const [what, makeUrl, reason] of refusals) {
  t.test(`${what} is refused over the socket with 4401`, async t => {
    const server = await startServer(t)
    const client = await Client.open(makeUrl(server.wsUrl), t)
    const { code, reason: text } = await client.closed
    t.equal(code, 4401)
    t.match(text, reason)
    t.same(client.messages, [], 'nothing is sent before the close')
  })
}

t.test('the connection refused by the limit gets 1008 and slots free on close', async t => {
  const server = await startServer(t, { MAX_CONNECTIONS_PER_USER: 2 })
  const a = await connect(server, t, 'carol')
  await connect(server, t, 'carol')
  const third = await Client.open(`${server.wsUrl}?token=${token('carol')}`, t)
  const closed = await third.closed
  t.equal(closed.code, 1008)
  t.equal(closed.reason, 'connection limit exceeded: 2 per user')
  await connect(server, t, 'dave')

  a.ws.close()
  await a.closed
  await waitFor(() => server.app.hub.connectionsOf('carol') === 1, 'the server to see the close')
  await t.resolves(connect(server, t, 'carol'), 'a closed connection frees its slot')
})
