import type { IncomingMessage, ServerResponse } from 'node:http'
import fp from 'fastify-plugin'
import helmet from 'helmet'

/**
 * The Content-Security-Policy of every response. The dashboard loads only
 * its own script and style files and talks to this host's WebSocket, so
 * nothing else is allowed: no inline script or style, no other hosts, no
 * framing. `connect-src` names ws:/wss: because CSP level 2 browsers do not
 * count ws://this-host as 'self'.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"]
}

/**
 * The headers helmet sets with the strict CSP above, in order.
 * `upgrade-insecure-requests` is left out: the service may be reached over
 * plain HTTP on a private network, where it would break the page; TLS is
 * the proxy's business.
 *
 * They are the same for every response, so helmet runs once, at start-up,
 * against a response that only records them. (@fastify/helmet built a new
 * helmet middleware, parsing the CSP again, on every request: 14 µs of
 * each WebSocket handshake, whose headers are then dropped anyway.)
 */
export function securityHeaders (): Array<[string, string]> {
  const headers: Array<[string, string]> = []
  const recorder = {
    setHeader (name: string, value: string | number | readonly string[]): void { headers.push([name, String(value)]) },
    // Helmet removes X-Powered-By, which nothing here sets.
    removeHeader (): void {}
  }
  let failure: unknown = null
  helmet({ contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY } })(
    {} as unknown as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => { failure = err ?? null })
  if (failure !== null || headers.length === 0) throw new Error(`helmet set no security headers (${String(failure)}); check the helmet version in package.json`)
  return headers
}

/**
 * Security headers on every HTTP response. A WebSocket handshake is
 * answered by ws with its own 101 response, which carries no body for a
 * browser to render: nothing is set for it.
 */
export default fp(async function securityHeadersPlugin (app) {
  const headers = securityHeaders()
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.headers.upgrade?.toLowerCase() !== 'websocket') {
      for (const [name, value] of headers) reply.raw.setHeader(name, value)
    }
    done()
  })
}, { name: 'security-headers', dependencies: ['config'] })
