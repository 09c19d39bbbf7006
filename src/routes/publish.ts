import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
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

  app.post('/api/events', {
    onRequest: guard,
    bodyLimit: MAX_PUBLISH_BODY_BYTES,
    schema: { body: EventBody, response: { 202: PublishedReply } }
  }, async (request, reply) => {
    const body = request.body
    const message = await app.bus.publish({
      type: 'camera_event',
      timestamp: body.timestamp === undefined ? now() : new Date(body.timestamp).toISOString(),
      camera_id: body.camera_id,
      event_type: body.event_type,
      data: body.data ?? {}
    })
    return await reply.code(202).send({ seq: message.seq })
  })

  app.post('/api/alerts', {
    onRequest: guard,
    bodyLimit: MAX_PUBLISH_BODY_BYTES,
    schema: { body: AlertBody, response: { 202: PublishedReply } }
  }, async (request, reply) => {
    const body = request.body
    const message = await app.bus.publish({
      type: 'alert',
      timestamp: now(),
      level: body.level,
      message: body.message,
      ...(body.user_id === undefined ? {} : { user_id: body.user_id }),
      data: body.data ?? {}
    })
    return await reply.code(202).send({ seq: message.seq })
  })
}
