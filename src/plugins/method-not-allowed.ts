import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Errors } from '../errors.js'

/**
 * Requests no route answers. A path that exists under other methods gets
 * 405 with an `Allow` header naming them (GET /api/events says "use POST"),
 * anything else 404; both through the error handler, with a `code`.
 *
 * Every route is recorded as it is added (onRoute), so this plugin must be
 * registered before the routes; plugins that add their own (the API docs)
 * are covered the same way. Route paths are matched the way the router
 * reads them: `:param` is one path segment, `*` the rest of the path.
 */

interface KnownPath {
  readonly pattern: RegExp
  readonly methods: Set<string>
}

/** '/assets/:name' → /^\/assets\/[^/]+$/; '/docs/*' → /^\/docs\/.*$/. */
function patternOf (url: string): RegExp {
  const source = url.split(/(:[A-Za-z0-9_]+(?:\([^)]*\))?|\*)/).map(part => {
    if (part === '*') return '.*'
    if (part.startsWith(':')) return '[^/]+'
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }).join('')
  return new RegExp(`^${source}$`)
}

export default fp(async function methodNotAllowedPlugin (app: FastifyInstance) {
  const known = new Map<string, KnownPath>()

  app.addHook('onRoute', route => {
    let path = known.get(route.url)
    if (path === undefined) {
      path = { pattern: patternOf(route.url), methods: new Set() }
      known.set(route.url, path)
    }
    for (const method of [route.method].flat()) path.methods.add(method)
    // The router answers HEAD wherever GET is answered (exposeHeadRoutes).
    if (path.methods.has('GET')) path.methods.add('HEAD')
  })

  /** The methods some route answers on this concrete path, in a stable order; [] when none. */
  function allowedMethods (path: string): string[] {
    const methods = new Set<string>()
    for (const entry of known.values()) {
      if (entry.pattern.test(path)) for (const method of entry.methods) methods.add(method)
    }
    return [...methods].sort()
  }

  app.setNotFoundHandler({}, (request, reply) => {
    const path = request.url.split('?')[0]
    const allow = allowedMethods(path)
    if (allow.length === 0) throw new Errors.NotFound(request.method, path)
    reply.header('allow', allow.join(', '))
    const listed = allow.length === 1 ? allow[0] : `${allow.slice(0, -1).join(', ')} or ${allow.at(-1)!}`
    throw new Errors.MethodNotAllowed(request.method, path, listed)
  })
}, { name: 'method-not-allowed' })
