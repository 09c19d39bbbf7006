import t from 'tap'
import { startServer } from '../helper.js'

/**
 * A known path with a method it does not answer: 405 with an `Allow`
 * header naming the methods it does, not 404 ("no such route").
 */

t.test('GET and DELETE /api/events: 405, Allow: POST', async t => {
  const server = await startServer(t)
  for (const method of ['GET', 'DELETE', 'PUT']) {
    const response = await fetch(`${server.url}/api/events`, { method })
    t.equal(response.status, 405, method)
    t.equal(response.headers.get('allow'), 'POST', `${method}: Allow names the method that works`)
    t.match(await response.json(), {
      statusCode: 405,
      code: 'PUSH_METHOD_NOT_ALLOWED',
      error: 'Method Not Allowed',
      message: `${method} is not allowed on /api/events; use POST`
    })
  }
})

t.test('every route answers 405 to a method it lacks; GET routes allow HEAD', async t => {
  const server = await startServer(t)
  const cases: Array<[string, string, string]> = [
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/api/statistics', 'GET, HEAD, OPTIONS'],
    ['POST', '/api/ws/statistics', 'GET, HEAD'],
    ['PATCH', '/api/alerts', 'POST'],
    ['POST', '/assets/dashboard.js', 'GET, HEAD'],
    ['PUT', '/', 'GET, HEAD']
  ]
  for (const [method, url, allow] of cases) {
    const response = await server.app.inject({ method: method as 'POST', url, payload: method === 'GET' ? undefined : '{}', headers: { 'content-type': 'application/json' } })
    t.equal(response.statusCode, 405, `${method} ${url}`)
    t.equal(response.headers.allow, allow, `${method} ${url}: Allow`)
  }
})

t.test('a path with a query string is matched by its path', async t => {
  const server = await startServer(t)
  const response = await server.app.inject({ method: 'DELETE', url: '/api/statistics?x=1' })
  t.equal(response.statusCode, 405)
  t.match(response.json().message, /on \/api\/statistics;/)
})

t.test('an unknown path is still 404', async t => {
  const server = await startServer(t)
  const response = await server.app.inject({ method: 'DELETE', url: '/api/nothing' })
  t.equal(response.statusCode, 404)
  t.equal(response.json().code, 'PUSH_NOT_FOUND')
  t.equal(response.headers.allow, undefined)
})

t.test('OPTIONS on a known path: 405 too (no CORS preflight is served), with Allow', async t => {
  const server = await startServer(t)
  const response = await server.app.inject({ method: 'OPTIONS', url: '/api/events' })
  t.equal(response.statusCode, 405)
  t.equal(response.headers.allow, 'POST')
})
