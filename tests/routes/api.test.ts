import t from 'tap'
import { signToken } from '../../src/auth/sign.js'
import { connect, startServer, token } from '../helper.js'

const publisher = (): string => `Bearer ${token('cm', { roles: ['publisher'] })}`

t.test('GET /healthz answers 200', async t => {
  const server = await startServer(t)
  const response = await server.app.inject({ method: 'GET', url: '/healthz' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok' })
})

t.test('GET /api/ws/status needs a valid bearer token', async t => {
  const server = await startServer(t)
  const missing = await server.app.inject({ method: 'GET', url: '/api/ws/status' })
  t.equal(missing.statusCode, 401)
  t.match(missing.json().message, /Authorization: Bearer/)
  const expired = await server.app.inject({ method: 'GET', url: '/api/ws/status', headers: { authorization: `Bearer ${token('a', { ttlMs: -5000 })}` } })
  t.equal(expired.statusCode, 401)
  t.match(expired.json().message, /token expired/)
  const forged = await server.app.inject({ method: 'GET', url: '/api/ws/status', headers: { authorization: `Bearer ${signToken({ sub: 'a' }, { key: 'another-secret-that-is-long-enough!!' })}` } })
  t.equal(forged.statusCode, 401)
})

t.test('GET /api/ws/status shows counts; only admins see the per-user breakdown', async t => {
  const server = await startServer(t)
  await connect(server, t, 'alice')
  await connect(server, t, 'alice')
  await connect(server, t, 'bob')

  const asAlice = await server.app.inject({ method: 'GET', url: '/api/ws/status', headers: { authorization: `Bearer ${token('alice')}` } })
  t.equal(asAlice.statusCode, 200)
  const body = asAlice.json()
  t.match(body, { total_connections: 3, total_users: 2, user_connections: 2, max_connections_per_user: 5 })
  t.type(body.uptime_seconds, 'number')
  t.notOk('users' in body, 'a non-admin never sees other users')

  const asAdmin = await server.app.inject({ method: 'GET', url: '/api/ws/status', headers: { authorization: `Bearer ${token('root', { roles: ['admin'] })}` } })
  t.same(asAdmin.json().users, { alice: 2, bob: 1 })
  t.equal(asAdmin.json().user_connections, 0)
})

t.test('GET /api/statistics returns the latest snapshot', async t => {
  const server = await startServer(t)
  const response = await server.app.inject({ method: 'GET', url: '/api/statistics', headers: { authorization: `Bearer ${token('a')}` } })
  t.equal(response.statusCode, 200)
  t.match(response.json(), { timestamp: String, data: { events_total: 0, total_connections: 0 } })
  t.equal((await server.app.inject({ method: 'GET', url: '/api/statistics' })).statusCode, 401)
})

t.test('POST /api/events: 202 with seq, 401, 403, 400 naming the field, 413', async t => {
  const server = await startServer(t)
  const post = async (body: unknown, authorization?: string, raw = false): Promise<{ statusCode: number, json: () => Record<string, unknown> }> =>
    await server.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      payload: raw ? body as string : JSON.stringify(body)
    })

  const ok = await post({ camera_id: 'cam_1', event_type: 'face_detected' }, publisher())
  t.equal(ok.statusCode, 202)
  t.same(ok.json(), { seq: 1 })

  t.equal((await post({ camera_id: 'cam_1', event_type: 'x' })).statusCode, 401)
  const forbidden = await post({ camera_id: 'cam_1', event_type: 'x' }, `Bearer ${token('viewer')}`)
  t.equal(forbidden.statusCode, 403)
  t.match(forbidden.json().message, /"publisher" role/)

  const cases: Array<[unknown, RegExp]> = [
    [{ camera_id: 1, event_type: 'x' }, /body\.camera_id must be string/],
    [{ event_type: 'x' }, /body\.camera_id is required/],
    [{ camera_id: 'c', event_type: 'x', data: [] }, /body\.data must be object/],
    [{ camera_id: 'c', event_type: 'x', timestamp: 'yesterday' }, /body\.timestamp must be an ISO-8601 date-time/],
    [{ camera_id: 'c', event_type: 'x', extra: true }, /body\.extra is not allowed/],
    [{ camera_id: '', event_type: 'x' }, /body\.camera_id must NOT have fewer than 1 characters/]
  ]
  for (const [body, message] of cases) {
    const response = await post(body, publisher())
    t.equal(response.statusCode, 400, JSON.stringify(body))
    t.match(response.json().message, message)
  }
  const notJson = await post('{"camera_id":', publisher(), true)
  t.equal(notJson.statusCode, 400)
  t.match(notJson.json().message, /not valid JSON/)

  const huge = await post({ camera_id: 'c', event_type: 'x', data: { blob: 'x'.repeat(70 * 1024) } }, publisher())
  t.equal(huge.statusCode, 413)
  t.match(huge.json().message, /at most 64 KiB/)

  const next = await post({ camera_id: 'cam_1', event_type: 'face_detected' }, publisher())
  t.same(next.json(), { seq: 2 }, 'rejected requests took no seq')
})

t.test('POST /api/alerts validates level and needs the publisher role', async t => {
  const server = await startServer(t)
  const post = async (body: unknown, authorization = publisher()): Promise<{ statusCode: number, json: () => Record<string, unknown> }> =>
    await server.app.inject({ method: 'POST', url: '/api/alerts', headers: { 'content-type': 'application/json', authorization }, payload: JSON.stringify(body) })
  t.equal((await post({ level: 'info', message: 'hello' })).statusCode, 202)
  const bad = await post({ level: 'fatal', message: 'hello' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /body\.level must be one of "info", "warning", "critical"/)
  t.equal((await post({ level: 'info', message: 'x' }, `Bearer ${token('viewer')}`)).statusCode, 403)
})

t.test('unknown routes get a JSON 404 that points to the API', async t => {
  const server = await startServer(t)
  const response = await server.app.inject({ method: 'GET', url: '/api/nothing?token=secret' })
  t.equal(response.statusCode, 404)
  t.match(response.json().message, /no route GET \/api\/nothing/)
  t.notMatch(response.body, /secret/)
})

t.test('a plain GET of the WebSocket endpoint gets 426 with instructions', async t => {
  const server = await startServer(t)
  const response = await server.app.inject({ method: 'GET', url: '/api/ws/statistics' })
  t.equal(response.statusCode, 426)
  t.match(response.json().message, /speaks WebSocket/)
})

t.test('the HTTP API is rate limited per address with 429 and Retry-After', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 3 })
  const auth = { authorization: `Bearer ${token('a')}` }
  for (let i = 0; i < 3; i++) t.equal((await fetch(`${server.url}/api/statistics`, { headers: auth })).status, 200)
  const limited = await fetch(`${server.url}/api/statistics`, { headers: auth })
  t.equal(limited.status, 429)
  t.ok(limited.headers.get('retry-after'), 'Retry-After is set')
  t.match((await limited.json() as { message: string }).message, /rate limit of 3 requests per minute exceeded/)
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, 'health checks are not limited')
})

t.test('handshake floods get HTTP 429 before any upgrade, also with the HTTP limit off', async t => {
  const server = await startServer(t, { WS_CONNECT_RATE_LIMIT: 2, RATE_LIMIT_MAX: 0 })
  await connect(server, t, 'a')
  await connect(server, t, 'b')
  const { default: WebSocket } = await import('ws')
  const ws = new WebSocket(`${server.wsUrl}?token=${token('c')}`)
  const status = await new Promise<number>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0) })
    ws.on('open', () => { reject(new Error('the upgrade should have been refused')) })
    ws.on('error', () => {})
  })
  t.equal(status, 429)
})

t.test('rate limits of 0 are disabled', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0, WS_CONNECT_RATE_LIMIT: 0 })
  const auth = { authorization: `Bearer ${token('a')}` }
  for (let i = 0; i < 30; i++) t.equal((await fetch(`${server.url}/api/statistics`, { headers: auth })).status, 200)
  for (let i = 0; i < 10; i++) (await connect(server, t, `u${i}`)).ws.close()
})

t.test('GET /api/statistics answers CORS so dashboards on other sites can poll it', async t => {
  const server = await startServer(t)
  const preflight = await server.app.inject({ method: 'OPTIONS', url: '/api/statistics', headers: { origin: 'https://wall.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], '*')
  t.match(preflight.headers['access-control-allow-headers'], /authorization/)
  const get = await server.app.inject({ method: 'GET', url: '/api/statistics', headers: { origin: 'https://wall.example', authorization: `Bearer ${token('a')}` } })
  t.equal(get.statusCode, 200)
  t.equal(get.headers['access-control-allow-origin'], '*')
  const refused = await server.app.inject({ method: 'GET', url: '/api/statistics', headers: { origin: 'https://wall.example' } })
  t.equal(refused.statusCode, 401)
  t.equal(refused.headers['access-control-allow-origin'], '*', 'the page can read why it was refused')
})

t.test('with ALLOWED_ORIGINS only the listed origins get CORS headers', async t => {
  const server = await startServer(t, { ALLOWED_ORIGINS: ['https://wall.example'] })
  const listed = await server.app.inject({ method: 'GET', url: '/api/statistics', headers: { origin: 'https://wall.example', authorization: `Bearer ${token('a')}` } })
  t.equal(listed.headers['access-control-allow-origin'], 'https://wall.example')
  t.equal(listed.headers.vary, 'Origin')
  const other = await server.app.inject({ method: 'GET', url: '/api/statistics', headers: { origin: 'https://evil.example', authorization: `Bearer ${token('a')}` } })
  t.notOk('access-control-allow-origin' in other.headers)
})
