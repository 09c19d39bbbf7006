import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { drainConnections, type DrainResult } from '../lifecycle/drain.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** True once a drain has begun: /readyz is 503 and new WebSockets are refused with 1012. */
    readonly draining: boolean
    /**
     * Tells every connection to reconnect (server_restart, close 1012) and
     * waits for them to close, at most `timeoutMs` (SHUTDOWN_TIMEOUT_MS by
     * default). Idempotent: a second call gets the first one's result.
     */
    drain (options?: { timeoutMs?: number }): Promise<DrainResult>
  }
}

/** Graceful drain and the readiness probe that reports it. */
export default fp(async function drainPlugin (app) {
  let running: Promise<DrainResult> | null = null
  app.decorate('draining', { getter: () => running !== null })
  app.decorate('drain', function drain (options: { timeoutMs?: number } = {}): Promise<DrainResult> {
    running ??= (async () => {
      app.log.info({ connections: app.hub.size }, 'draining: telling every connection to reconnect')
      const result = await drainConnections(app.hub, {
        spreadMs: app.config.RECONNECT_SPREAD_MS,
        timeoutMs: options.timeoutMs ?? app.config.SHUTDOWN_TIMEOUT_MS,
        onTold: () => { app.metrics.drained.inc() }
      })
      app.log.info(result, 'drained')
      return result
    })()
    return running
  })

  // Readiness, unlike liveness (/healthz), turns false during a drain so the
  // load balancer stops sending new connections to this instance.
  app.get('/readyz', {
    config: { rateLimit: false },
    logLevel: 'warn',
    schema: {
      summary: 'Readiness',
      description: 'Answers 503 from the moment a drain (SIGTERM) begins, so a load balancer stops sending new connections here. Never rate limited.',
      tags: ['operations'],
      response: {
        200: Type.Object({ status: Type.Literal('ready') }, { description: 'Ready for new connections' }),
        503: Type.Object({ status: Type.Literal('draining') }, { description: 'Draining: send new connections elsewhere' })
      }
    }
  }, async (_request, reply) => {
    if (running !== null) return await reply.code(503).send({ status: 'draining' })
    return { status: 'ready' }
  })
}, { name: 'drain', dependencies: ['config', 'hub', 'metrics'] })
