import t from 'tap'
import { TokenExpiry } from '../../src/auth/token-expiry.js'
import { Client, LogCapture, connect, startServer, token, waitFor } from '../helper.js'

// A bug met while serving one connection must end that connection, not the
// process: ws calls the message listener from the socket's data event, so
// an exception there used to be uncaught and killed every connection.
t.test('an exception in a message handler closes that connection with 1011, is logged, and nothing else stops', async t => {
  const logs = new LogCapture()
  const server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 0, LOG_LEVEL: 'info' }, { logStream: logs })
  const bystander = await connect(server, t, 'bystander')
  const victim = await connect(server, t, 'victim')
  const verify = server.app.verifyToken
  server.app.verifyToken = (candidate) => {
    if (candidate === 'boom') throw new Error('injected failure')
    return verify(candidate)
  }

  victim.send({ type: 'auth', token: 'boom' })
  const closed = await victim.closed
  t.equal(closed.code, 1011, 'the connection whose message failed is closed with 1011')
  t.match(closed.reason, /^internal error/)
  await waitFor(() => logs.lines.some(line => line.msg === 'closing connection: handling a message failed'), 'the failure to be logged')
  const logged = logs.lines.find(line => line.msg === 'closing connection: handling a message failed')!
  t.match(logged, { level: 50, userId: 'victim', err: { message: 'injected failure' } }, 'logged as an error with the connection')

  const refused = await Client.open(`${server.wsUrl}?token=boom`, t)
  const refusal = await refused.closed
  t.equal(refusal.code, 1011, 'a handshake that fails is closed with 1011')
  t.match(refusal.reason, /^internal error/)
  await waitFor(() => logs.lines.some(line => line.msg === 'closing connection: the handshake failed'), 'the handshake failure to be logged')

  await bystander.roundTrip()
  t.pass('another connection is still served')
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, '/healthz answers')
  await waitFor(() => server.app.hub.size === 1, 'the failed connection to leave the hub')
  const again = await Client.open(`${server.wsUrl}?token=${token('victim')}`, t)
  t.equal((await again.next()).status, 'connected', 'the user can connect again')
})

t.test('a throwing expiry callback is reported and the wheel goes on', async t => {
  let clock = 0
  const errors: string[] = []
  const expired: string[] = []
  const wheel = new TokenExpiry({
    warningMs: 0,
    skewMs: 0,
    resolutionMs: 100,
    now: () => clock,
    onWarn: () => {},
    onExpire: id => { if (id === 'bad') throw new Error('boom'); expired.push(id) },
    onError: (id, err) => errors.push(`${id}: ${(err as Error).message}`)
  })
  wheel.track('bad', 1000)
  wheel.track('good', 1000)
  clock = 1200
  wheel.tick()
  t.same(errors, ['bad: boom'])
  t.same(expired, ['good'], 'the other entry still expires')
})
