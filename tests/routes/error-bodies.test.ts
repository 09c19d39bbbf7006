import t from 'tap'
import { startServer } from '../helper.js'

/** Every HTTP error body carries a `code` a program can branch on, as the README promises. */

t.test('a plain GET of the WebSocket endpoint: 426 with a code', async t => {
  const server = await startServer(t)
  const response = await fetch(`${server.url}/api/ws/statistics`)
  t.equal(response.status, 426)
  t.equal(response.headers.get('upgrade'), 'websocket')
  t.match(await response.json(), { statusCode: 426, code: 'PUSH_UPGRADE_REQUIRED', error: 'Upgrade Required', message: /speaks WebSocket/ })
})

t.test('a dashboard file that does not exist: 404 with a code', async t => {
  const server = await startServer(t)
  const response = await fetch(`${server.url}/assets/nope.js`)
  t.equal(response.status, 404)
  t.match(await response.json(), { statusCode: 404, code: 'PUSH_NOT_FOUND', error: 'Not Found', message: /no dashboard file assets\/nope\.js/ })
})

t.test('a rate limit: 429 with a code', async t => {
  const server = await startServer(t, { WS_CONNECT_RATE_LIMIT: 1 })
  await server.app.inject({ url: '/api/ws/statistics' })
  const response = await server.app.inject({ url: '/api/ws/statistics' })
  t.equal(response.statusCode, 429)
  t.match(response.json(), { statusCode: 429, code: 'PUSH_RATE_LIMITED', error: 'Too Many Requests', message: /rate limit of 1 requests per minute/ })
})

t.test('/metrics without its token: 401 with a code', async t => {
  const server = await startServer(t, { METRICS_TOKEN: 'metrics-secret' })
  const response = await server.app.inject({ url: '/metrics' })
  t.equal(response.statusCode, 401)
  t.match(response.json(), { statusCode: 401, code: 'PUSH_METRICS_TOKEN', error: 'Unauthorized' })
})
