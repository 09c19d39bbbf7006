import fastifyHelmet from '@fastify/helmet'
import fp from 'fastify-plugin'

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
 * Security headers (helmet) on every HTTP response, with the strict CSP
 * above. `upgrade-insecure-requests` is left out: the service may be
 * reached over plain HTTP on a private network, where it would break the
 * page; TLS is the proxy's business.
 */
export default fp(async function securityHeadersPlugin (app) {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: CONTENT_SECURITY_POLICY
    }
  })
}, { name: 'security-headers', dependencies: ['config'] })
