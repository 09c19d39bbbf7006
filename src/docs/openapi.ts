import type { SwaggerOptions } from '@fastify/swagger'
import type { TSchema } from 'typebox'
import { packageVersion } from './package-version.js'
import { sortedKeys } from './stable.js'

declare module 'fastify' {
  interface FastifySchema {
    /**
     * A query string shown in the OpenAPI document but not validated: the
     * WebSocket endpoint reads its own query so that a bad one becomes a
     * close code a browser can read, not an HTTP 400.
     */
    documentedQuerystring?: TSchema
  }
}

/** Tags group the operations in the OpenAPI document, in this order. */
const TAGS = [
  { name: 'publish', description: 'Producers publish camera events and alerts (role `publisher`); they are pushed to every subscribed WebSocket.' },
  { name: 'statistics', description: 'Statistics snapshots and connection counts, for dashboards that poll and for operators.' },
  { name: 'websocket', description: 'The WebSocket endpoint. Its messages, close codes and error codes are described by docs/asyncapi.json.' },
  { name: 'operations', description: 'Liveness, readiness and Prometheus metrics.' },
  { name: 'dashboard', description: 'The dashboard page, its files and the browser client module.' }
]

/** Where the UI is served; the document itself is at `${DOCS_PREFIX}/json`. */
export const DOCS_PREFIX = '/docs'

const DESCRIPTION = [
  'Real-time statistics push service: producers publish camera events and alerts over HTTP,',
  'dashboards receive them (with statistics snapshots) over an authenticated WebSocket.',
  '',
  'Every error reply is JSON with `statusCode`, `code`, `error` and `message`.',
  'The WebSocket protocol (messages, close codes, error codes) is described by docs/asyncapi.json.'
].join('\n')

/**
 * The @fastify/swagger options. No `servers`: the document is the same on
 * every host (docs/openapi.json is committed and compared with it), and a
 * UI then calls the host it was loaded from.
 */
export function openApiOptions (): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Statistics push service', version: packageVersion(), description: DESCRIPTION },
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT with `sub` (user id), optional `roles` (publisher, admin, presence), `cameras` and `exp`; signed with JWT_SECRET (HS256) or the key of JWT_PUBLIC_KEY' },
          queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'The same JWT in the query, for browsers, which cannot set headers on a WebSocket' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'The static METRICS_TOKEN, when it is set' }
        }
      }
    },
    // Shared schemas keep their $id as their name (ErrorReply), not def-N.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    },
    transform ({ schema, url }) {
      if (schema?.documentedQuerystring === undefined) return { schema, url }
      const { documentedQuerystring, ...rest } = schema
      return { schema: { ...rest, querystring: documentedQuerystring }, url }
    },
    transformObject (documentObject) {
      return stableOpenApi('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject)
    }
  }
}

/** Paths, their methods and the components in a fixed order, whatever order plugins registered them in. */
export function stableOpenApi<T extends object> (document: T): T {
  const doc = document as Record<string, unknown>
  const paths = doc.paths as Record<string, Record<string, unknown>> | undefined
  const components = doc.components as Record<string, Record<string, unknown>> | undefined
  return {
    ...document,
    ...(paths === undefined ? {} : { paths: sortedKeys(Object.fromEntries(Object.entries(paths).map(([path, item]) => [path, sortedKeys(item)]))) }),
    ...(components === undefined ? {} : { components: sortedKeys(Object.fromEntries(Object.entries(components).map(([kind, entries]) => [kind, sortedKeys(entries)]))) })
  }
}
