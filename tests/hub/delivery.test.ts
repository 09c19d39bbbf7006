import t from 'tap'
import type { StatisticsSource } from '../../src/stats/collector.js'
import { connect, publishEvent, startServer, token } from '../helper.js'

t.test('a published camera_event reaches exactly the subscribed connections', async t => {
  const server = await startServer(t)
  const all = await connect(server, t, 'a')
  const onlyCam2 = await connect(server, t, 'b')
  const noEvents = await connect(server, t, 'c')
  onlyCam2.send({ type: 'subscribe', camera_ids: ['cam_2'] })
  await onlyCam2.nextOfType('subscribed')
  noEvents.send({ type: 'unsubscribe', event_types: ['camera_event'] })
  await noEvents.nextOfType('subscribed')

  const response = await publishEvent(server, { camera_id: 'cam_1', event_type: 'face_detected', data: { confidence: 0.9 }, timestamp: '2026-03-01T10:00:00+02:00' })
  t.equal(response.status, 202)
  const { seq } = await response.json() as { seq: number }
  t.equal(seq, 1)
  const second = await publishEvent(server, { camera_id: 'cam_2', event_type: 'motion' })
  t.same(await second.json(), { seq: 2 })

  const first = await all.nextOfType('camera_event')
  t.same(first, {
    type: 'camera_event',
    timestamp: '2026-03-01T08:00:00.000Z',
    seq: 1,
    camera_id: 'cam_1',
    event_type: 'face_detected',
    data: { confidence: 0.9 }
  }, 'the event as the protocol shows it, its timestamp in UTC')
  t.equal((await all.nextOfType('camera_event')).seq, 2)

  const filtered = await onlyCam2.nextOfType('camera_event')
  t.equal(filtered.camera_id, 'cam_2', 'the camera filter let only cam_2 through')

  await noEvents.roundTrip()
  t.equal(noEvents.messages.filter(m => m.type === 'camera_event').length, 0, 'the unsubscribed connection got no events')
})

t.test('an alert for one user reaches only that user\'s connections; one without user_id reaches everyone', async t => {
  const server = await startServer(t)
  const bob1 = await connect(server, t, 'bob')
  const bob2 = await connect(server, t, 'bob')
  const alice = await connect(server, t, 'alice')
  const publisher = token('ops', { roles: ['publisher'] })
  const post = async (body: unknown): Promise<Response> => await fetch(`${server.url}/api/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` },
    body: JSON.stringify(body)
  })

  const personal = await post({ level: 'warning', message: 'door left open', user_id: 'bob', data: { door: 'north' } })
  t.equal(personal.status, 202)
  for (const client of [bob1, bob2]) {
    t.match(await client.nextOfType('alert'), { type: 'alert', seq: 1, level: 'warning', message: 'door left open', user_id: 'bob', data: { door: 'north' } })
  }
  await alice.roundTrip()
  t.equal(alice.messages.filter(m => m.type === 'alert').length, 0, 'alice did not get bob\'s alert')

  t.equal((await post({ level: 'critical', message: 'camera offline' })).status, 202)
  for (const client of [bob1, bob2, alice]) {
    t.match(await client.nextOfType('alert'), { seq: 2, level: 'critical', message: 'camera offline' })
  }
})

/** A statistics source the test controls, counting how often it is asked. */
class ControlledSource implements StatisticsSource {
  readonly name = 'controlled'
  value = 1
  calls = 0
  #waiters: Array<() => void> = []
  collect (): Record<string, unknown> {
    this.calls++
    for (const wake of this.#waiters.splice(0)) wake()
    return { controlled: this.value }
  }

  async collected (times: number): Promise<void> {
    const target = this.calls + times
    while (this.calls < target) await new Promise<void>(resolve => this.#waiters.push(resolve))
  }
}

t.test('statistics are pushed when they change and not when they do not', async t => {
  const source = new ControlledSource()
  const server = await startServer(t, { STATS_INTERVAL_MS: 100 }, { statisticsSources: [source] })
  const client = await connect(server, t)
  const update = await client.next(m => m.type === 'statistics_update' && (m.data as Record<string, unknown>).total_connections === 1)
  t.match(update.data, { controlled: 1, total_users: 1, events_total: 0 })
  // The first update is this connection's own greeting, counting itself; the
  // snapshot gathered before it connected counted 0, so the next gathering
  // differs from it and is pushed once. Two gatherings later it has been.
  await source.collected(2)
  await client.roundTrip()

  const before = client.messages.filter(m => m.type === 'statistics_update').length
  await source.collected(3)
  await client.roundTrip()
  t.equal(client.messages.filter(m => m.type === 'statistics_update').length, before, 'three unchanged runs pushed nothing')

  source.value = 2
  const changed = await client.next(m => m.type === 'statistics_update' && (m.data as Record<string, unknown>).controlled === 2)
  t.equal(new Date(changed.timestamp as string).toISOString(), changed.timestamp)
})

t.test('a new connection gets the latest statistics right after connected', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 60_000 })
  await server.app.statistics.collect()
  await publishEvent(server, { camera_id: 'cam_9', event_type: 'face_recognized', data: { person_name: 'Ada' } })
  const client = await connect(server, t)
  const next = await client.next()
  t.equal(next.type, 'statistics_update', 'the statistics follow the connected status immediately')
})

t.test('statistics count ingested events', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 60_000 })
  await publishEvent(server, { camera_id: 'cam_1', event_type: 'face_detected' })
  await publishEvent(server, { camera_id: 'cam_2', event_type: 'face_recognized', data: { person_name: 'Ada' }, timestamp: '2026-05-05T05:05:05Z' })
  const snapshot = await server.app.statistics.collect()
  t.match(snapshot.data, {
    events_total: 2,
    events_today: 2,
    recognitions_today: 1,
    last_recognition: { person_name: 'Ada', camera_id: 'cam_2', timestamp: '2026-05-05T05:05:05.000Z' },
    active_cameras: 2,
    events_by_type: { face_detected: 1, face_recognized: 1 }
  })
})
