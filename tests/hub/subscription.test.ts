import t from 'tap'
import { Subscription } from '../../src/hub/subscription.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

const event = (camera: string, eventType = 'motion'): SequencedMessage =>
  ({ type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', seq: 1, camera_id: camera, event_type: eventType, data: {} })
const alert: SequencedMessage = { type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', seq: 2, level: 'info', message: 'm', data: {} }

t.test('a new subscription wants every type from every camera', async t => {
  const sub = new Subscription()
  t.ok(sub.wants(event('cam_1')))
  t.ok(sub.wants(alert))
  t.same(sub.toJSON(), { event_types: ['camera_event', 'alert'], camera_ids: null, camera_count: 0, camera_event_types: null, camera_event_type_count: 0 })
})

t.test('a camera list narrows camera events to those cameras and leaves alerts alone', async t => {
  const sub = new Subscription()
  t.same(sub.subscribe([], ['cam_1']), { ok: true })
  t.ok(sub.wants(event('cam_1')))
  t.notOk(sub.wants(event('cam_2')))
  t.ok(sub.wants(alert), 'the camera filter applies to camera_event only')
  t.same(sub.toJSON(), { event_types: ['camera_event', 'alert'], camera_ids: ['cam_1'], camera_count: 1, camera_event_types: null, camera_event_type_count: 0 })
})

t.test('another camera list widens the filter; null lifts it', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['cam_1'])
  sub.subscribe([], ['cam_2'])
  t.ok(sub.wants(event('cam_1')) && sub.wants(event('cam_2')))
  t.notOk(sub.wants(event('cam_3')))
  sub.subscribe([], null)
  t.ok(sub.wants(event('cam_3')))
  t.equal(sub.cameraIds, null)
})

t.test('a subscribe without a camera list keeps the filter as it is', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['cam_1'])
  sub.subscribe(['alert'])
  t.same(sub.toJSON().camera_ids, ['cam_1'])
})

t.test('unsubscribing a type stops it; subscribing again brings it back', async t => {
  const sub = new Subscription()
  sub.unsubscribe(['alert'])
  t.notOk(sub.wants(alert))
  t.ok(sub.wants(event('cam_1')))
  t.same(sub.toJSON().event_types, ['camera_event'])
  sub.subscribe(['alert'])
  t.ok(sub.wants(alert))
})

t.test('event types are listed in protocol order whatever order they were added in', async t => {
  const sub = new Subscription()
  sub.unsubscribe(['camera_event', 'alert'])
  t.same(sub.toJSON().event_types, [])
  sub.subscribe(['alert'])
  sub.subscribe(['camera_event'])
  t.same(sub.toJSON().event_types, ['camera_event', 'alert'])
})

t.test('removing cameras from a list narrows it; removing the last wants no camera at all', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['cam_1', 'cam_2'])
  sub.unsubscribe([], ['cam_1'])
  t.notOk(sub.wants(event('cam_1')))
  t.ok(sub.wants(event('cam_2')))
  sub.unsubscribe([], ['cam_2', 'never-listed'])
  t.notOk(sub.wants(event('cam_2')), 'an empty list is not "every camera"')
  t.same(sub.toJSON(), { event_types: ['camera_event', 'alert'], camera_ids: [], camera_count: 0, camera_event_types: null, camera_event_type_count: 0 })
})

t.test('removing cameras while every camera is wanted changes nothing', async t => {
  const sub = new Subscription()
  sub.unsubscribe([], ['cam_1'])
  t.ok(sub.wants(event('cam_1')))
  t.equal(sub.cameraIds, null)
})

t.test('a camera list that would pass the cap is refused whole, event types included', async t => {
  const sub = new Subscription()
  sub.unsubscribe(['alert'])
  sub.subscribe([], ['a', 'b'], 3)
  t.same(sub.subscribe(['alert'], ['c', 'd'], 3), { ok: false, filter: 'camera_ids', wouldHold: 4 })
  t.same(sub.toJSON(), { event_types: ['camera_event'], camera_ids: ['a', 'b'], camera_count: 2, camera_event_types: null, camera_event_type_count: 0 }, 'nothing changed')
})

t.test('the cap counts distinct new ids: repeats and ids already held are free', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['a', 'b'], 3)
  t.same(sub.subscribe([], ['a', 'b', 'c', 'c', 'c'], 3), { ok: true }, 'exactly at the cap is allowed')
  t.equal(sub.cameraCount, 3)
  t.same(sub.subscribe([], ['d'], 3), { ok: false, filter: 'camera_ids', wouldHold: 4 })
})

t.test('lifting the filter is never refused by the cap', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['a'], 1)
  t.same(sub.subscribe([], null, 0), { ok: true })
  t.equal(sub.cameraIds, null)
})

t.test('a camera event type list narrows camera events to those types and leaves alerts alone', async t => {
  const sub = new Subscription()
  t.same(sub.subscribe([], undefined, 10, ['face_recognized']), { ok: true })
  t.ok(sub.wants(event('cam_1', 'face_recognized')))
  t.notOk(sub.wants(event('cam_1', 'motion')))
  t.ok(sub.wants(alert), 'the type filter applies to camera_event only')
  t.same(sub.toJSON(), { event_types: ['camera_event', 'alert'], camera_ids: null, camera_count: 0, camera_event_types: ['face_recognized'], camera_event_type_count: 1 })
})

t.test('the type filter and the camera filter both apply to a camera event', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['cam_1'], 10, ['motion'])
  t.ok(sub.wants(event('cam_1', 'motion')))
  t.notOk(sub.wants(event('cam_2', 'motion')), 'another camera')
  t.notOk(sub.wants(event('cam_1', 'line_crossing')), 'another type')
  sub.subscribe([], null)
  t.ok(sub.wants(event('cam_2', 'motion')), 'lifting the camera filter keeps the type filter')
  t.notOk(sub.wants(event('cam_2', 'line_crossing')))
})

t.test('type lists widen the filter, unsubscribe narrows it, null lifts it', async t => {
  const sub = new Subscription()
  sub.subscribe([], undefined, 10, ['motion'])
  sub.subscribe([], undefined, 10, ['line_crossing'])
  t.ok(sub.wants(event('cam_1', 'motion')) && sub.wants(event('cam_1', 'line_crossing')))
  sub.unsubscribe([], undefined, ['motion', 'never-listed'])
  t.notOk(sub.wants(event('cam_1', 'motion')))
  sub.unsubscribe([], undefined, ['line_crossing'])
  t.notOk(sub.wants(event('cam_1', 'line_crossing')), 'an empty list is not "every type"')
  t.same(sub.toJSON().camera_event_types, [])
  sub.subscribe([], undefined, 10, null)
  t.ok(sub.wants(event('cam_1', 'anything')))
  t.equal(sub.cameraEventTypes, null)
})

t.test('removing types while every type is wanted changes nothing', async t => {
  const sub = new Subscription()
  sub.unsubscribe([], undefined, ['motion'])
  t.ok(sub.wants(event('cam_1', 'motion')))
  t.equal(sub.cameraEventTypes, null)
})

t.test('a type list that would pass its cap is refused whole, cameras and event types included', async t => {
  const sub = new Subscription()
  sub.unsubscribe(['alert'])
  sub.subscribe([], undefined, 10, ['a', 'b'], 3)
  t.same(sub.subscribe(['alert'], ['cam_1'], 10, ['b', 'c', 'd', 'd'], 3), { ok: false, filter: 'camera_event_types', wouldHold: 4 })
  t.same(sub.toJSON(), { event_types: ['camera_event'], camera_ids: null, camera_count: 0, camera_event_types: ['a', 'b'], camera_event_type_count: 2 }, 'nothing changed')
  t.same(sub.subscribe([], undefined, 10, ['b', 'c'], 3), { ok: true }, 'exactly at the cap is allowed')
  t.same(sub.subscribe([], undefined, 10, null, 0), { ok: true }, 'lifting the filter is never refused')
})
