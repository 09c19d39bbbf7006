import fastifyRateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'

/**
 * HTTP rate limits per client address: HTTP_RATE_LIMIT_PER_MINUTE (field
 * RATE_LIMIT_MAX) requests a minute on the API (0 disables it). Routes set
 * their own limits in `config.rateLimit` (the WebSocket handshake has
 * WS_CONNECT_RATE_LIMIT_PER_MINUTE), which apply even when the global limit
 * is off.
 */
export default fp(async function rateLimitPlugin (app) {
  const max = app.config.RATE_LIMIT_MAX
  await app.register(fastifyRateLimit, {
    global: max > 0,
    max: max > 0 ? max : 1,
    timeWindow: 60_000,
    errorResponseBuilder (_request, context) {
      return {
        statusCode: 429,
        code: 'PUSH_RATE_LIMITED',
        error: 'Too Many Requests',
        message: `rate limit of ${context.max} requests per ${context.after === '1 minute' ? 'minute' : 'window'} exceeded; retry in ${context.after}`
      }
    }
  })
}, { name: 'rate-limit', dependencies: ['config'] })
