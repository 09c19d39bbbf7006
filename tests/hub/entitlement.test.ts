import t from 'tap'
import { mayReceive, type Recipient } from '../../src/hub/entitlement.js'
import { Subscription } from '../../src/hub/subscription.js'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

const recipient = (userId: string, subscription = new Subscription()): Recipient => ({ connection: { userId }, subscription, scope: CameraScope.ALL })
const alertFor = (userId?: string): SequencedMessage =>
  ({ type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', seq: 1, level: 'warning', message: 'm', data: {}, ...(userId === undefined ? {} : { user_id: userId }) })
const event: SequencedMessage = { type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', seq: 2, camera_id: 'cam_1', event_type: 'motion', data: {} }

t.test('an alert without user_id is for everyone', async t => {
  t.ok(mayReceive(recipient('alice'), alertFor()))
  t.ok(mayReceive(recipient('bob'), alertFor()))
})

t.test('an alert with user_id is for that user alone', async t => {
  t.ok(mayReceive(recipient('alice'), alertFor('alice')))
  t.notOk(mayReceive(recipient('bob'), alertFor('alice')))
})

t.test('user ids are compared exactly', async t => {
  t.notOk(mayReceive(recipient('Alice'), alertFor('alice')))
  t.notOk(mayReceive(recipient(''), alertFor('alice')))
})

t.test('a user\'s own alert still needs the subscription to want alerts', async t => {
  const subscription = new Subscription()
  subscription.unsubscribe(['alert'])
  t.notOk(mayReceive(recipient('alice', subscription), alertFor('alice')))
})

t.test('camera events follow the subscription\'s camera filter', async t => {
  const subscription = new Subscription()
  t.ok(mayReceive(recipient('alice', subscription), event))
  subscription.subscribe([], ['cam_2'])
  t.notOk(mayReceive(recipient('alice', subscription), event))
})
