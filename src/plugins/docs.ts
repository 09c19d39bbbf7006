import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { DOCS_PREFIX, openApiOptions } from '../docs/openapi.js'

/**
 * The OpenAPI document of the HTTP API, generated from the route schemas,
 * at /docs/json (and /docs/yaml), with Swagger UI at /docs. The UI's files
 * come from node_modules through this service (no CDN) and its page loads
 * only external scripts and styles, so the service's strict CSP stays as it
 * is. Registered before the routes: @fastify/swagger collects them as they
 * are added. With API_DOCS=false nothing is registered.
 */
export default fp(async function docsPlugin (app) {
  if (!app.config.API_DOCS) return
  await app.register(fastifySwagger, openApiOptions())
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    // The online validator would send the document to another host.
    validatorUrl: false,
    // BaseLayout: the standalone layout's top bar draws the Swagger logo as
    // an SVG with an inline <style>, which the CSP refuses (and it only
    // offers to load other documents).
    uiConfig: { layout: 'BaseLayout', docExpansion: 'list', deepLinking: true, defaultModelsExpandDepth: 0 }
  })
}, { name: 'docs', dependencies: ['config'] })
