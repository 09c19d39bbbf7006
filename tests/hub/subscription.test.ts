import t from 'tap'
import { Subscription } from '../../src/hub/subscription.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

const event = (camera: string): SequencedMessage =>
  ({ type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', seq: 1, camera_id: camera, event_type: 'motion', data: {} })
const alert: SequencedMessage = { type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', seq: 2, level: 'info', message: 'm', data: {} }

t.test('a new subscription wants every type from every camera', async t => {
  const sub = new Subscription()
  t.ok(sub.wants(event('cam_1')))
  t.ok(sub.wants(alert))
  t.same(sub.toJSON(), { event_types: ['camera_event', 'alert'], camera_ids: null, camera_count: 0 })
})

t.test('a camera list narrows camera events to those cameras and leaves alerts alone', async t => {
  const sub = new Subscription()
  t.same(sub.subscribe([], ['cam_1']), { ok: true })
  t.ok(sub.wants(event('cam_1')))
  t.notOk(sub.wants(event('cam_2')))
  t.ok(sub.wants(alert), 'the camera filter applies to camera_event only')
  t.same(sub.toJSON(), { event_types: ['camera_event', 'alert'], camera_ids: ['cam_1'], camera_count: 1 })
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
  t.same(sub.toJSON(), { event_types: ['camera_event', 'alert'], camera_ids: [], camera_count: 0 })
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
  t.same(sub.subscribe(['alert'], ['c', 'd'], 3), { ok: false, wouldHold: 4 })
  t.same(sub.toJSON(), { event_types: ['camera_event'], camera_ids: ['a', 'b'], camera_count: 2 }, 'nothing changed')
})

t.test('the cap counts distinct new ids: repeats and ids already held are free', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['a', 'b'], 3)
  t.same(sub.subscribe([], ['a', 'b', 'c', 'c', 'c'], 3), { ok: true }, 'exactly at the cap is allowed')
  t.equal(sub.cameraCount, 3)
  t.same(sub.subscribe([], ['d'], 3), { ok: false, wouldHold: 4 })
})

t.test('lifting the filter is never refused by the cap', async t => {
  const sub = new Subscription()
  sub.subscribe([], ['a'], 1)
  t.same(sub.subscribe([], null, 0), { ok: true })
  t.equal(sub.cameraIds, null)
})
