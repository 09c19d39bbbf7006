import t from 'tap'
import { ConnectionHub, type Connection } from '../../src/hub/connection-hub.js'
import { LocalSlotLimiter, type AcquireResult } from '../../src/backplane/slot-limiter.js'
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

t.test('tracks connections per user and forgets them on remove', async t => {
  const hub = new ConnectionHub()
  const u1 = hub.add(new FakeConnection('1', 'u'))
  t.equal(u1.connection.id, '1', 'add returns the member')
  hub.add(new FakeConnection('2', 'u'))
  hub.add(new FakeConnection('3', 'u'))
  hub.add(new FakeConnection('4', 'v'))
  t.same(hub.users(), { u: 3, v: 1 }, 'the hub registers what it is given: the limit is the slot limiter\'s')
  t.throws(() => hub.add(new FakeConnection('1', 'u')), /already registered/, 'an id is registered once')
  t.ok(hub.remove('1'))
  t.notOk(hub.remove('1'), 'removing twice is harmless')
  t.equal(hub.connectionsOf('u'), 2)
  hub.remove('4')
  t.equal(hub.userCount, 1, 'a user with no connections is forgotten')
})

/** Admits as the WebSocket route does: a slot first, then the hub. */
async function admit (hub: ConnectionHub, slots: LocalSlotLimiter, connection: FakeConnection): Promise<AcquireResult> {
  const slot = await slots.acquire(connection.userId, connection.id)
  if (slot.ok) hub.add(connection)
  return slot
}

/** Closes as the WebSocket session does: the hub entry and the slot go together. */
function leave (hub: ConnectionHub, slots: LocalSlotLimiter, id: string): void {
  const member = hub.get(id)
  if (member === undefined) return
  hub.remove(id)
  slots.release(member.connection.userId, id)
}

t.test('admits up to the per-user limit (the slot limiter\'s) and frees slots on remove', async t => {
  const hub = new ConnectionHub()
  const slots = new LocalSlotLimiter(2)
  t.ok((await admit(hub, slots, new FakeConnection('1', 'u'))).ok)
  t.ok((await admit(hub, slots, new FakeConnection('2', 'u'))).ok)
  t.same(await admit(hub, slots, new FakeConnection('3', 'u')), { ok: false, reason: 'connection_limit', limit: 2 })
  t.ok((await admit(hub, slots, new FakeConnection('4', 'v'))).ok, 'other users are unaffected')
  t.same(hub.users(), { u: 2, v: 1 })
  leave(hub, slots, '1')
  leave(hub, slots, '1')
  t.ok((await admit(hub, slots, new FakeConnection('5', 'u'))).ok)
  t.same(await admit(hub, slots, new FakeConnection('6', 'u')), { ok: false, reason: 'connection_limit', limit: 2 }, 'a slot freed twice is free once')
  leave(hub, slots, '4')
  t.equal(hub.userCount, 1, 'a user with no connections is forgotten')
})

t.test('serializes a message once for all recipients', async t => {
  const hub = new ConnectionHub()
  const a = new FakeConnection('a', 'u1')
  const b = new FakeConnection('b', 'u2')
  hub.add(a)
  hub.add(b)
  t.equal(hub.deliver(event(1)), 2)
  t.equal(a.frames[0], b.frames[0], 'the same Buffer goes to every connection')
})

t.test('filters by event type and camera; the camera filter does not apply to alerts', async t => {
  const hub = new ConnectionHub()
  const cams = new FakeConnection('a', 'u1')
  const alertsOnly = new FakeConnection('b', 'u2')
  hub.add(cams).subscription.subscribe([], ['cam_2'])
  hub.add(alertsOnly)
  hub.get('b')!.subscription.unsubscribe(['camera_event'])
  hub.deliver(event(1, 'cam_1'))
  hub.deliver(event(2, 'cam_2'))
  hub.deliver({ type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', seq: 3, level: 'info', message: 'hi', data: {} })
  t.same(cams.received.map(m => m.seq), [2, 3])
  t.same(alertsOnly.received.map(m => m.seq), [3])
})

t.test('an alert with user_id goes to that user only', async t => {
  const hub = new ConnectionHub()
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
  const hub = new ConnectionHub()
  const a = new FakeConnection('a', 'u')
  hub.add(a)
  hub.closeAll(1001, 'bye')
  t.same(a.closed, { code: 1001, reason: 'bye' })
})
