import type { FastifyInstance, FastifyReply } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { RedisUnavailableError } from '../cluster/redis-client.js'
import type { Draft } from '../bus/bus.js'
import { now } from '../protocol/codec.js'
import { AlertBody, EventBody, PublishedReply } from '../protocol/messages.js'

/** Largest accepted body for a published event or alert. */
export const MAX_PUBLISH_BODY_BYTES = 64 * 1024

/**
 * Ingest for producers: camera events and alerts, published on the bus and
 * pushed to every subscribed connection. Authentication runs on request,
 * before the body is read, so an anonymous caller cannot make the service
 * parse 64 KiB.
 */
export default async function publishRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const guard = [app.authenticate, app.requireRole('publisher')]

  /**
   * Publishes, or answers 503 at once when the shared bus (Redis) is down:
   * an event accepted then would never reach the other instances.
   */
  async function publish (draft: Draft, reply: FastifyReply): Promise<FastifyReply> {
    try {
      const message = await app.bus.publish(draft)
      return await reply.code(202).send({ seq: message.seq })
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err
      return await reply.code(503).header('retry-after', '1').send({
        statusCode: 503,
        code: 'PUSH_BUS_UNAVAILABLE',
        error: 'Service Unavailable',
        message: 'the event bus (Redis) is unreachable, so nothing was published; retry in a few seconds'
      })
    }
  }

  app.post('/api/events', {
    onRequest: guard,
    bodyLimit: MAX_PUBLISH_BODY_BYTES,
    schema: { body: EventBody, response: { 202: PublishedReply } }
  }, async (request, reply) => {
    const body = request.body
    return await publish({
      type: 'camera_event',
      timestamp: body.timestamp === undefined ? now() : new Date(body.timestamp).toISOString(),
      camera_id: body.camera_id,
      event_type: body.event_type,
      data: body.data ?? {}
    }, reply)
  })

  app.post('/api/alerts', {
    onRequest: guard,
    bodyLimit: MAX_PUBLISH_BODY_BYTES,
    schema: { body: AlertBody, response: { 202: PublishedReply } }
  }, async (request, reply) => {
    const body = request.body
    return await publish({
      type: 'alert',
      timestamp: now(),
      level: body.level,
      message: body.message,
      ...(body.user_id === undefined ? {} : { user_id: body.user_id }),
      data: body.data ?? {}
    }, reply)
  })
}
