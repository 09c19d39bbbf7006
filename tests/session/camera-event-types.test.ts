import t from 'tap'
import { MAX_CAMERA_EVENT_TYPES } from '../../src/protocol/messages.js'
import { connect, publishEvent, startServer, token, type Server } from '../helper.js'

async function publishAlert (server: Server, body: Record<string, unknown>): Promise<Response> {
  return await fetch(`${server.url}/api/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('ops', { roles: ['publisher'] })}` },
    body: JSON.stringify(body)
  })
}

/**
 * `camera_event_types` in subscribe / unsubscribe: a filter on camera
 * events' `event_type`, echoed in `subscribed`, capped per connection, and
 * applied to live fan-out (alerts are never filtered by it).
 */

t.test('subscribe and unsubscribe with camera_event_types answer with the type filter', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)

  client.send({ type: 'subscribe', camera_event_types: ['motion'] })
  t.match(await client.nextOfType('subscribed'), { event_types: ['camera_event', 'alert'], camera_ids: null, camera_event_types: ['motion'], camera_event_type_count: 1 })

  client.send({ type: 'subscribe', camera_ids: ['cam_1'], camera_event_types: ['line_crossing', 'motion'] })
  t.match(await client.nextOfType('subscribed'), { camera_ids: ['cam_1'], camera_event_types: ['motion', 'line_crossing'], camera_event_type_count: 2 }, 'type lists are united')

  client.send({ type: 'unsubscribe', camera_event_types: ['motion'] })
  t.match(await client.nextOfType('subscribed'), { camera_ids: ['cam_1'], camera_event_types: ['line_crossing'], camera_event_type_count: 1 })

  client.send({ type: 'subscribe', camera_event_types: null })
  t.match(await client.nextOfType('subscribed'), { camera_ids: ['cam_1'], camera_event_types: null, camera_event_type_count: 0 }, 'null lifts the type filter, not the camera filter')

  const fresh = await connect(server, t)
  fresh.send({ type: 'subscribe', event_types: ['alert'] })
  t.match(await fresh.nextOfType('subscribed'), { camera_event_types: null, camera_event_type_count: 0 }, 'a new connection has every type')
})

t.test('a subscribe past the type cap is refused whole with too_many_event_types', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)
  const types = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `type-${from + i}`)
  client.send({ type: 'subscribe', camera_event_types: types(0, MAX_CAMERA_EVENT_TYPES - 1) })
  t.match(await client.nextOfType('subscribed'), { camera_event_type_count: MAX_CAMERA_EVENT_TYPES - 1 })
  client.send({ type: 'subscribe', camera_ids: ['cam_1'], camera_event_types: types(MAX_CAMERA_EVENT_TYPES - 1, 2) })
  const error = await client.nextOfType('error')
  t.equal(error.code, 'too_many_event_types')
  t.match(error.message, `it would hold ${MAX_CAMERA_EVENT_TYPES + 1} camera event types, more than ${MAX_CAMERA_EVENT_TYPES}`)
  t.match(error.message, /nothing was changed/)
  // Types already held do not count again; the last free place is taken.
  client.send({ type: 'subscribe', camera_event_types: ['type-0', ...types(MAX_CAMERA_EVENT_TYPES - 1, 1)] })
  t.match(await client.nextOfType('subscribed'), { camera_ids: null, camera_event_type_count: MAX_CAMERA_EVENT_TYPES }, 'the refused subscribe changed no camera either')
  client.send({ type: 'subscribe', camera_event_types: null })
  t.match(await client.nextOfType('subscribed'), { camera_event_types: null })
})

t.test('malformed type lists are answered with invalid_message naming the field', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)
  client.send({ type: 'subscribe', camera_event_types: [''] })
  t.match(await client.nextOfType('error'), { code: 'invalid_message', message: /camera_event_types\.0/ })
  client.send({ type: 'subscribe', camera_event_types: ['x'.repeat(65)] })
  t.match(await client.nextOfType('error'), { code: 'invalid_message', message: /camera_event_types\.0/ })
  client.send({ type: 'unsubscribe', camera_event_types: null })
  t.match(await client.nextOfType('error'), { code: 'invalid_message', message: /camera_event_types/ })
})

t.test('live camera events follow the type filter; alerts are never filtered by it', async t => {
  const server = await startServer(t)
  const client = await connect(server, t)
  client.send({ type: 'subscribe', camera_event_types: ['face_recognized'] })
  await client.nextOfType('subscribed')
  for (const eventType of ['motion', 'face_recognized', 'line_crossing']) {
    t.equal((await publishEvent(server, { camera_id: 'cam_1', event_type: eventType })).status, 202)
  }
  t.equal((await publishAlert(server, { level: 'info', message: 'after the events' })).status, 202)
  const received: Array<Record<string, unknown>> = []
  while (received.at(-1)?.type !== 'alert') received.push(await client.next(m => m.type === 'camera_event' || m.type === 'alert'))
  t.same(received.map(m => m.type === 'alert' ? 'alert' : m.event_type), ['face_recognized', 'alert'])
})
