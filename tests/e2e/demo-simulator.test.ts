import t from 'tap'
import WebSocket from 'ws'
import { connect, type WebSocketConstructor } from '../../src/client/index.js'
import { CAMERAS, PEOPLE } from '../../scripts/demo/catalog.js'
import { CameraSimulator } from '../../scripts/demo/simulator.js'
import { startServer, token, waitFor } from '../helper.js'

t.test('the demo simulator publishes camera events and alerts through the HTTP API', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0, STATS_INTERVAL_MS: 100 })
  const client = connect({ url: server.url, token: token('viewer'), WebSocket: WebSocket as unknown as WebSocketConstructor })
  t.teardown(() => { client.close() })
  const events: Array<{ camera_id: string, event_type: string, data: Record<string, unknown> }> = []
  const alerts: Array<{ level: string, message: string }> = []
  client.on('camera_event', event => events.push(event))
  client.on('alert', alert => alerts.push(alert))
  await new Promise<void>(resolve => { const off = client.on('status', s => { if (s.status === 'live') { off(); resolve() } }) })

  const errors: string[] = []
  const simulator = new CameraSimulator({
    url: server.url,
    token: token('demo-camera-gateway', { roles: ['publisher'] }),
    eventsPerSecond: 200,
    firstAlertAfterSeconds: 0,
    onError: message => errors.push(message)
  })
  t.teardown(async () => { await simulator.stop() })
  simulator.start()
  await waitFor(() => events.length >= 30 && alerts.length >= 1, 'events and an alert from the simulator')
  await simulator.stop()

  t.same(errors, [], 'the service accepted every publication')
  t.equal(simulator.failed, 0)
  const cameraIds = new Set(CAMERAS.map(camera => camera.id))
  t.ok(events.every(event => cameraIds.has(event.camera_id)), 'events come from the simulated cameras')
  const recognitions = events.filter(event => event.event_type === 'face_recognized')
  t.ok(recognitions.every(event => PEOPLE.includes(event.data.person_name as string)), 'recognitions name a known person')
  t.ok(events.every(event => typeof event.data.confidence === 'number'))
  t.match(alerts[0], { level: /^(info|warning|critical)$/, message: String })
  const snapshot = await server.app.statistics.collect()
  t.equal(snapshot.data.events_total, simulator.accepted - alerts.length, 'the service counted every event')
})

t.test('the simulator stops cleanly: no publication after stop()', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0 })
  const simulator = new CameraSimulator({ url: server.url, token: token('gw', { roles: ['publisher'] }), eventsPerSecond: 100 })
  simulator.start()
  await waitFor(() => simulator.accepted >= 5, 'a few publications')
  await simulator.stop()
  const snapshot = await server.app.statistics.collect()
  t.equal(snapshot.data.events_total, simulator.accepted, 'every request in flight finished before stop() resolved')
  t.equal(simulator.failed, 0)
})
