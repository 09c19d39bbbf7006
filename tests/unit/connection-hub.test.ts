import t from 'tap'
import { ConnectionHub, type Connection } from '../../src/hub/connection-hub.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

class FakeConnection implements Connection {
  readonly frames: Buffer[] = []
  closed: { code: number, reason: string } | null = null
  bufferedAmount = 0
  constructor (readonly id: string, readonly userId: string) {}
  send (frame: Buffer): void { this.frames.push(frame) }
  close (code: number, reason: string): void { this.closed = { code, reason } }
  terminate (): void { this.closed = { code: 1006, reason: '' } }
  ping (): void {}
  get received (): Array<Record<string, unknown>> { return this.frames.map(frame => JSON.parse(frame.toString())) }
}

const event = (seq: number, camera = 'cam_1'): SequencedMessage =>
  ({ type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', seq, camera_id: camera, event_type: 'motion', data: {} })

t.test('admits up to the per-user limit and frees slots on remove', async t => {
  const hub = new ConnectionHub({ maxConnectionsPerUser: 2 })
  t.ok(hub.add(new FakeConnection('1', 'u')).ok)
  t.ok(hub.add(new FakeConnection('2', 'u')).ok)
  t.same(hub.add(new FakeConnection('3', 'u')), { ok: false, reason: 'connection_limit', limit: 2 })
  t.ok(hub.add(new FakeConnection('4', 'v')).ok, 'other users are unaffected')
  t.same(hub.users(), { u: 2, v: 1 })
  t.ok(hub.remove('1'))
  t.notOk(hub.remove('1'), 'removing twice is harmless')
  t.ok(hub.add(new FakeConnection('5', 'u')).ok)
  hub.remove('4')
  t.equal(hub.userCount, 1, 'a user with no connections is forgotten')
})

t.test('serializes a message once for all recipients', async t => {
  const hub = new ConnectionHub({ maxConnectionsPerUser: 5 })
  const a = new FakeConnection('a', 'u1')
  const b = new FakeConnection('b', 'u2')
  hub.add(a)
  hub.add(b)
  t.equal(hub.deliver(event(1)), 2)
  t.equal(a.frames[0], b.frames[0], 'the same Buffer goes to every connection')
})

t.test('filters by event type and camera; the camera filter does not apply to alerts', async t => {
  const hub = new ConnectionHub({ maxConnectionsPerUser: 5 })
  const cams = new FakeConnection('a', 'u1')
  const alertsOnly = new FakeConnection('b', 'u2')
  hub.get(hub.add(cams).ok ? 'a' : '')!.subscription.subscribe([], ['cam_2'])
  hub.add(alertsOnly)
  hub.get('b')!.subscription.unsubscribe(['camera_event'])
  hub.deliver(event(1, 'cam_1'))
  hub.deliver(event(2, 'cam_2'))
  hub.deliver({ type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', seq: 3, level: 'info', message: 'hi', data: {} })
  t.same(cams.received.map(m => m.seq), [2, 3])
  t.same(alertsOnly.received.map(m => m.seq), [3])
})

t.test('an alert with user_id goes to that user only', async t => {
  const hub = new ConnectionHub({ maxConnectionsPerUser: 5 })
  const mine = new FakeConnection('a', 'me')
  const other = new FakeConnection('b', 'you')
  hub.add(mine)
  hub.add(other)
  t.equal(hub.deliver({ type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', seq: 1, level: 'info', message: 'hi', user_id: 'me', data: {} }), 1)
  t.equal(hub.deliver({ type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', seq: 2, level: 'info', message: 'hi', user_id: 'nobody', data: {} }), 0)
  t.equal(mine.frames.length, 1)
  t.equal(other.frames.length, 0)
})

t.test('closeAll sends a close to every connection', async t => {
  const hub = new ConnectionHub({ maxConnectionsPerUser: 5 })
  const a = new FakeConnection('a', 'u')
  hub.add(a)
  hub.closeAll(1001, 'bye')
  t.same(a.closed, { code: 1001, reason: 'bye' })
})
