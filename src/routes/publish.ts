import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from 'typebox'
import { PublishUnavailableError, PublishUnconfirmedError } from '../backplane/errors.js'
import type { Draft } from '../bus/bus.js'
import { Errors } from '../errors.js'
import { now } from '../protocol/codec.js'
import { exceedsDepth, MAX_DATA_DEPTH } from '../protocol/depth.js'
import { AlertBody, EventBody, PublishedReply } from '../protocol/messages.js'
import { toUtcTimestamp } from '../protocol/timestamp.js'
import { authErrors, BEARER, errorReply } from '../protocol/http-replies.js'

/** Largest accepted body for a published event or alert. */
export const MAX_PUBLISH_BODY_BYTES = 64 * 1024

/** The longest Idempotency-Key accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128
const IDEMPOTENCY_KEY = new RegExp(`^[\\x21-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`)

/**
 * The request's Idempotency-Key scoped to its publisher (two publishers may
 * pick the same key), or undefined without one. The user id is URI-encoded
 * so that no `:` in it can make two scopes meet.
 */
function idempotencyKeyOf (request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key']
  if (key === undefined) return undefined
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) throw new Errors.InvalidIdempotencyKey(MAX_IDEMPOTENCY_KEY_LENGTH)
  return `${encodeURIComponent(request.principal?.userId ?? '')}:${key}`
}

/** Refuses a `data` nested deeper than any consumer can safely encode. */
function checkData (data: Record<string, unknown> | undefined): Record<string, unknown> {
  if (data === undefined) return {}
  if (exceedsDepth(data, MAX_DATA_DEPTH)) throw new Errors.DataTooDeep(MAX_DATA_DEPTH)
  return data
}

/**
 * A publisher's token with a `cameras` claim publishes for those cameras
 * only: a camera it may not see is a camera it may not speak for.
 */
function checkCamera (request: FastifyRequest, cameraId: string | undefined): void {
  const scope = request.principal?.cameras
  if (cameraId === undefined || scope === undefined || scope.admits(cameraId)) return
  throw new Errors.ForbiddenCamera(JSON.stringify(cameraId))
}

const PUBLISH_NOTES = 'Needs the `publisher` role; a token with a `cameras` claim publishes for those cameras only. The body is at most 64 KiB and `data` at most ' + String(MAX_DATA_DEPTH) + ' levels deep. The reply\'s `seq` orders the message among all events and alerts; a client resumes after it.'

/**
 * Documents the optional Idempotency-Key. Validation stays in
 * idempotencyKeyOf (its message names the rule), so the pattern is loose here.
 */
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: `1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters. A retry with the same key within IDEMPOTENCY_WINDOW_MS is answered with the first publish's seq (header idempotent-replayed: true) and is not published again` }))
})

const Accepted = { ...PublishedReply, description: 'Published: on its way to every subscribed connection (header idempotent-replayed: true when this is a retry of an earlier publish)' }

function publishErrors (): Record<number, TSchema> {
  return {
    400: errorReply('The body or a header is invalid', ['FST_ERR_VALIDATION', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'FST_ERR_CTP_INVALID_JSON_BODY', 'PUSH_DATA_TOO_DEEP', 'PUSH_INVALID_TIMESTAMP', 'PUSH_INVALID_IDEMPOTENCY_KEY']),
    ...authErrors(),
    403: errorReply('The token lacks the publisher role, or its cameras claim does not admit camera_id', ['PUSH_MISSING_ROLE', 'PUSH_FORBIDDEN_CAMERA']),
    413: errorReply('The body is larger than 64 KiB', ['FST_ERR_CTP_BODY_TOO_LARGE']),
    415: errorReply('The body is not application/json', ['FST_ERR_CTP_INVALID_MEDIA_TYPE']),
    503: errorReply('The event bus (Redis) is unreachable, or did not confirm the publish; retry after Retry-After seconds with the same Idempotency-Key', ['PUSH_BUS_UNAVAILABLE', 'PUSH_PUBLISH_UNCONFIRMED'])
  }
}

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
   * Publishes, or answers 503 when the shared bus (Redis) is down: at once
   * when it is known to be down (nothing was sent), or after a sent publish
   * went unconfirmed (its outcome is unknown: only a retry with the same
   * Idempotency-Key is safe).
   */
  async function publish (draft: Draft, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const key = idempotencyKeyOf(request)
    try {
      const { seq, replayed } = await app.bus.publish(draft, key)
      if (replayed) reply.header('idempotent-replayed', 'true')
      return await reply.code(202).send({ seq })
    } catch (err) {
      if (err instanceof PublishUnconfirmedError) {
        request.log.warn({ err }, 'a publish was sent to Redis but not confirmed; its outcome is unknown')
        return await reply.code(503).header('retry-after', '1').send({
          statusCode: 503,
          code: 'PUSH_PUBLISH_UNCONFIRMED',
          error: 'Service Unavailable',
          message: key === undefined
            ? 'the event bus (Redis) did not confirm this publish, so the outcome is unknown: it may still be delivered. Retrying may deliver it twice; send an Idempotency-Key header to make retries safe'
            : 'the event bus (Redis) did not confirm this publish, so the outcome is unknown: it may still be delivered. Retry in a few seconds with the same Idempotency-Key; it is published at most once'
        })
      }
      if (!(err instanceof PublishUnavailableError)) throw err
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
    schema: {
      summary: 'Publish a camera event',
      description: 'Pushes a `camera_event` to every connection subscribed to `camera_event` whose camera filter and token scope admit `camera_id`. ' + PUBLISH_NOTES,
      tags: ['publish'],
      security: BEARER,
      headers: IdempotencyHeaders,
      body: EventBody,
      response: { 202: Accepted, ...publishErrors() }
    }
  }, async (request, reply) => {
    const body = request.body
    checkCamera(request, body.camera_id)
    let timestamp = now()
    if (body.timestamp !== undefined) {
      const parsed = toUtcTimestamp(body.timestamp, 'body.timestamp')
      if (!parsed.ok) throw new Errors.InvalidTimestamp(parsed.message)
      timestamp = parsed.iso
    }
    return await publish({
      type: 'camera_event',
      timestamp,
      camera_id: body.camera_id,
      event_type: body.event_type,
      data: checkData(body.data)
    }, request, reply)
  })

  app.post('/api/alerts', {
    onRequest: guard,
    bodyLimit: MAX_PUBLISH_BODY_BYTES,
    schema: {
      summary: 'Publish an alert',
      description: 'Pushes an `alert` to every connection subscribed to `alert`: to one user\'s connections with `user_id`, and only to tokens whose scope admits `camera_id` when it is set. ' + PUBLISH_NOTES,
      tags: ['publish'],
      security: BEARER,
      headers: IdempotencyHeaders,
      body: AlertBody,
      response: { 202: Accepted, ...publishErrors() }
    }
  }, async (request, reply) => {
    const body = request.body
    checkCamera(request, body.camera_id)
    return await publish({
      type: 'alert',
      timestamp: now(),
      level: body.level,
      message: body.message,
      ...(body.user_id === undefined ? {} : { user_id: body.user_id }),
      ...(body.camera_id === undefined ? {} : { camera_id: body.camera_id }),
      data: checkData(body.data)
    }, request, reply)
  })
}
