import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import { signToken } from '../../src/auth/sign.js'
import { Client, connect, startServer, TEST_SECRET, token } from '../helper.js'
import { stallUntil, unreadBytes } from '../stall.js'

t.test('token_expiring, refresh with auth, then close 4401 at the new expiry', async t => {
  const server = await startServer(t, { TOKEN_REFRESH_WARNING_MS: 1500 })
  const client = await Client.open(`${server.wsUrl}?token=${token('alice', { ttlMs: 2000 })}`, t)
  await client.next(m => m.status === 'connected')
  const warning = await client.next(m => m.status === 'token_expiring')
  t.match(warning.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.match(warning.message, /auth/)

  const fresh = token('alice', { ttlMs: 3000 })
  const { exp } = JSON.parse(Buffer.from(fresh.split('.')[1], 'base64url').toString()) as { exp: number }
  client.send({ type: 'auth', token: fresh })
  const refreshed = await client.next(m => m.status === 'token_refreshed')
  t.equal(refreshed.expires_at, new Date(exp * 1000).toISOString())
  t.not(refreshed.expires_at, warning.expires_at, 'a later expiry')

  const second = await client.next(m => m.status === 'token_expiring')
  t.equal(second.expires_at, refreshed.expires_at, 'the warning follows the new token')
  const closed = await client.closed
  t.equal(closed.code, 4401)
  t.match(closed.reason, /^token expired/)
  t.ok(Date.now() >= exp * 1000, 'closed only once the new token had expired')
})

t.test('a fresh token sent before expiry keeps the connection even when this process reads it after the expiry', async t => {
  const server = await startServer(t, { TOKEN_REFRESH_WARNING_MS: 1500 })
  const client = await Client.open(`${server.wsUrl}?token=${token('alice', { ttlMs: 2000 })}`, t)
  const warning = await client.next(m => m.status === 'token_expiring')
  client.send({ type: 'auth', token: token('alice', { ttlMs: 60_000 }) })
  // Busy from here until the old token has expired, with the auth unread in the socket.
  await nextTurn()
  const port = (client.ws as unknown as { _socket: import('node:net').Socket })._socket.localPort as number
  const expiresAt = Date.parse(warning.expires_at as string)
  stallUntil(() => (unreadBytes(server.port, port) ?? 0) > 0 && Date.now() > expiresAt + 400, 'the auth message')

  const answer = await client.next(m => m.status === 'token_refreshed').catch((err: Error) => ({ closed: err.message }))
  t.match(answer, { status: 'token_refreshed' }, 'the refresh was read before the expiry was judged')
  t.equal(client.ws.readyState, client.ws.OPEN, 'and the connection stays open')
})

t.test('a refresh for another user or with a bad signature is refused and the old expiry stands', async t => {
  const server = await startServer(t, { TOKEN_REFRESH_WARNING_MS: 1500 })
  const original = token('alice', { ttlMs: 2000 })
  const client = await Client.open(`${server.wsUrl}?token=${original}`, t)
  await client.next(m => m.status === 'token_expiring')

  client.send({ type: 'auth', token: token('mallory') })
  const other = await client.nextOfType('error')
  t.equal(other.code, 'invalid_token')
  t.match(other.message, /another user/)

  client.send({ type: 'auth', token: signToken({ sub: 'alice' }, { key: 'another-secret-that-is-long-enough!!', ttlMs: 3_600_000 }) })
  const forged = await client.nextOfType('error')
  t.equal(forged.code, 'invalid_token')
  t.match(forged.message, /bad token signature/)

  const closed = await client.closed
  t.equal(closed.code, 4401, 'the original token still expires')
  t.notOk(client.messages.some(m => m.status === 'token_refreshed'))
})

t.test('JWT_CLOCK_SKEW_MS tolerates exp and nbf at the handshake', async t => {
  const past = Math.floor(Date.now() / 1000) - 2
  const expired = signToken({ sub: 'alice', exp: past }, { key: TEST_SECRET })
  const early = signToken({ sub: 'alice', nbf: past + 4, exp: past + 3600 }, { key: TEST_SECRET })

  const strict = await startServer(t)
  t.equal((await (await Client.open(`${strict.wsUrl}?token=${expired}`, t)).closed).code, 4401, 'no skew: expired')
  t.equal((await (await Client.open(`${strict.wsUrl}?token=${early}`, t)).closed).code, 4401, 'no skew: not yet valid')

  const lenient = await startServer(t, { JWT_CLOCK_SKEW_MS: 10_000, TOKEN_REFRESH_WARNING_MS: 0 })
  const a = await Client.open(`${lenient.wsUrl}?token=${expired}`, t)
  t.equal((await a.next()).status, 'connected', 'an exp 2 s ago is within 10 s of skew')
  const b = await Client.open(`${lenient.wsUrl}?token=${early}`, t)
  t.equal((await b.next()).status, 'connected', 'an nbf 2 s ahead is within 10 s of skew')
})

t.test('a token without exp is never expired on a live connection', async t => {
  const server = await startServer(t)
  const client = await connect(server, t, 'alice')
  client.send({ type: 'auth', token: signToken({ sub: 'alice' }, { key: TEST_SECRET }) })
  const refreshed = await client.next(m => m.status === 'token_refreshed')
  t.equal(refreshed.expires_at, null)
})
