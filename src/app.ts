import { STATUS_CODES } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Bus } from './bus/bus.js'
import type { History } from './history/history.js'
import type { Config } from './config.js'
import { redactingLogMethod, serializeRequest } from './log/redact.js'
import authPlugin from './plugins/auth.js'
import backplanePlugin from './plugins/backplane.js'
import configPlugin from './plugins/config.js'
import dashboardPlugin from './plugins/dashboard.js'
import docsPlugin from './plugins/docs.js'
import drainPlugin from './plugins/drain.js'
import hubPlugin from './plugins/hub.js'
import methodNotAllowedPlugin from './plugins/method-not-allowed.js'
import metricsPlugin from './plugins/metrics.js'
import presencePlugin from './plugins/presence.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import resumePlugin from './plugins/resume.js'
import securityHeadersPlugin from './plugins/security-headers.js'
import socketLimitsPlugin from './plugins/socket-limits.js'
import statsPlugin from './plugins/stats.js'
import websocketPlugin from './plugins/websocket.js'
import { ErrorReply } from './protocol/http-replies.js'
import { describeSchemaError, pickSchemaError } from './protocol/schema-errors.js'
import healthRoute from './routes/health.js'
import publishRoutes from './routes/publish.js'
import statisticsRoute from './routes/statistics.js'
import statusRoute from './routes/status.js'
import wsStatisticsRoute from './routes/ws-statistics.js'
import type { StatisticsSource } from './stats/collector.js'

export interface BuildOptions {
  /** Pino options or a ready logger; false for none. Tokens are redacted either way. */
  logger?: FastifyServerOptions['logger']
  /** A logger stream (tests read what was logged). */
  logStream?: NodeJS.WritableStream
  /** Without REDIS_URL: the fan-out bus; in memory when omitted. */
  bus?: Bus
  /** Without REDIS_URL: the history kept for resume after reconnect; in memory when omitted. */
  history?: History
  /** Extra statistics sources. */
  statisticsSources?: StatisticsSource[]
}

function loggerOptions (config: Config, options: BuildOptions): FastifyServerOptions['logger'] {
  if (options.logger === false) return false
  return {
    level: config.LOG_LEVEL,
    ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    serializers: { req: serializeRequest },
    hooks: { logMethod: redactingLogMethod },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'token'], censor: '[REDACTED]' }
  }
}

/**
 * Builds the application. It never listens: `server.ts` does, and tests
 * call `listen({ port: 0 })` themselves.
 */
export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, options),
    trustProxy: config.TRUST_PROXY,
    // Behind a load balancer the request id travels in this header.
    requestIdHeader: 'x-request-id',
    // Fastify's own 503 while closing is written to an upgrade request's raw
    // socket and never ends it: the half-open socket would keep close() from
    // finishing. Requests that arrive while closing are served instead, and
    // an upgrade is refused with a close frame (see the websocket plugin).
    return503OnClosing: false,
    // A request whose headers (or body) never finish is answered 408 and
    // closed within seconds, not held for Node's 60 s plus its 30 s check
    // interval: half-sent requests are how one client fills the server's
    // file descriptors. Upgraded WebSockets are not affected.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: {
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(config.HEADERS_TIMEOUT_MS / 5)))
    },
    ajv: {
      // No type coercion: a number where a string is required is a 400, and
      // unknown fields are refused rather than silently dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true }
    },
    schemaErrorFormatter (errors, dataVar) {
      const error = pickSchemaError(errors)
      return new Error(error === undefined ? `${dataVar} is invalid` : describeSchemaError(error, dataVar))
    }
  })

  app.setErrorHandler(function errorHandler (error: Error & { statusCode?: number, code?: string }, request, reply) {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
      return reply.code(statusCode).send({ statusCode, code: 'PUSH_INTERNAL_ERROR', error: 'Internal Server Error', message: 'the service failed to handle this request; it has been logged' })
    }
    let message = error.message
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = 'request body too large: send at most 64 KiB'
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') message = 'unsupported content type: send the body as application/json'
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') message = 'empty body: send a JSON object'
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.name === 'SyntaxError') message = 'the body is not valid JSON'
    return reply.code(statusCode).send({
      statusCode,
      // Every error body has a code a program can branch on, even an error thrown without one.
      code: error.code ?? 'PUSH_BAD_REQUEST',
      error: STATUS_CODES[statusCode] ?? 'Error',
      message
    })
  })
  // First: it records every route as it is added, for its 404 and 405 answers.
  await app.register(methodNotAllowedPlugin)

  // Error replies are serialized (and documented) with one shared schema.
  app.addSchema(ErrorReply)

  await app.register(configPlugin, { config })
  await app.register(socketLimitsPlugin)
  await app.register(securityHeadersPlugin)
  await app.register(rateLimitPlugin)
  // After the rate limiter (which limits only routes added after it) and
  // before every route: it documents the routes as they are added.
  await app.register(docsPlugin)
  await app.register(authPlugin)
  await app.register(backplanePlugin, { bus: options.bus, history: options.history })
  await app.register(metricsPlugin)
  await app.register(hubPlugin)
  await app.register(presencePlugin)
  await app.register(statsPlugin, { sources: options.statisticsSources })
  await app.register(resumePlugin)
  await app.register(drainPlugin)
  await app.register(websocketPlugin)

  await app.register(healthRoute)
  await app.register(statusRoute)
  await app.register(statisticsRoute)
  await app.register(publishRoutes)
  await app.register(wsStatisticsRoute)
  await app.register(dashboardPlugin)
  return app
}
