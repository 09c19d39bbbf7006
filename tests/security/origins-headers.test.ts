import t from 'tap'
import { loadConfig, ConfigError } from '../../src/config.js'
import { Client, startServer, token } from '../helper.js'

t.test('ALLOWED_ORIGINS: another browser origin is closed with 4403, listed and absent origins connect', async t => {
  const server = await startServer(t, { ALLOWED_ORIGINS: ['https://dash.example.com', 'http://localhost:8080'] })
  const url = `${server.wsUrl}?token=${token('alice')}`

  const evil = await Client.open(url, t, { origin: 'https://evil.example.net' })
  const closed = await evil.closed
  t.equal(closed.code, 4403)
  t.match(closed.reason, /^origin not allowed/)
  t.same(evil.messages, [], 'nothing is sent before the close')

  for (const origin of ['https://dash.example.com', 'http://localhost:8080']) {
    const ok = await Client.open(url, t, { origin })
    t.equal((await ok.next()).status, 'connected', `${origin} is allowed`)
  }
  const script = await Client.open(url, t)
  t.equal((await script.next()).status, 'connected', 'no Origin header (a script) is not affected')

  const metrics = await (await fetch(`${server.url}/metrics`)).text()
  t.match(metrics, /push_connections_refused_total\{code="4403"\} 1/, 'the refusal is counted')
})

t.test('without ALLOWED_ORIGINS every origin connects', async t => {
  const server = await startServer(t)
  const client = await Client.open(`${server.wsUrl}?token=${token('alice')}`, t, { origin: 'https://anywhere.example.org' })
  t.equal((await client.next()).status, 'connected')
})

t.test('ALLOWED_ORIGINS entries must be exact origins', async t => {
  t.same(loadConfig({ ALLOWED_ORIGINS: ' https://a.example.com , http://localhost:3000 ' }).ALLOWED_ORIGINS, ['https://a.example.com', 'http://localhost:3000'])
  t.equal(loadConfig({}).ALLOWED_ORIGINS, null)
  for (const bad of ['https://a.example.com/', 'a.example.com', 'https://a.example.com/path', 'ftp://a.example.com']) {
    const err = t.throws(() => loadConfig({ ALLOWED_ORIGINS: bad })) as ConfigError
    t.match(err.problems[0], /ALLOWED_ORIGINS entry .* is not an origin; write it as the browser sends it/, bad)
  }
})

t.test('every response carries the security headers and a strict CSP', async t => {
  const server = await startServer(t)
  // /api/ws/statistics without an upgrade is answered 426 by the service itself, not by ws.
  for (const path of ['/healthz', '/no-such-page', '/api/ws/statistics']) {
    const response = await fetch(`${server.url}${path}`)
    const csp = response.headers.get('content-security-policy') ?? ''
    t.match(csp, /default-src 'self'/, path)
    t.match(csp, /script-src 'self'(;|$)/, 'same-origin scripts only, nothing inline')
    t.match(csp, /style-src 'self'(;|$)/, 'same-origin styles only, nothing inline')
    t.match(csp, /connect-src 'self' ws: wss:/)
    t.match(csp, /frame-ancestors 'none'/)
    t.notMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/)
    t.equal(response.headers.get('x-content-type-options'), 'nosniff')
    t.equal(response.headers.get('x-frame-options'), 'SAMEORIGIN')
    t.equal(response.headers.get('referrer-policy'), 'no-referrer')
  }
})
