import t from 'tap'
import type { Draft } from '../../src/bus/bus.js'
import { MemoryBus } from '../../src/bus/memory-bus.js'
import type { History } from '../../src/history/history.js'
import { MemoryHistory } from '../../src/history/memory-history.js'
import { ConnectionHub, type Connection, type Member } from '../../src/hub/connection-hub.js'
import { CloseCode } from '../../src/protocol/close-codes.js'
import { encode } from '../../src/protocol/codec.js'
import { RESUME_NOT_FIRST, Resumer, type ResumerOptions } from '../../src/resume/resumer.js'
import { waitFor, type Test } from '../helper.js'

/** A plain-object connection, as in the hub's tests; `log` records sends across connections in order. */
class FakeConnection implements Connection {
  readonly frames: Buffer[] = []
  closed: { code: number, reason: string } | null = null
  buffered = 0
  bufferedReads = 0
  failSends = false
  constructor (readonly id: string, readonly userId: string, readonly log: string[] = []) {}
  send (frame: Buffer): void {
    if (this.failSends) throw new Error('socket broke')
    this.frames.push(frame)
    this.log.push(this.id)
  }

  close (code: number, reason: string): void { this.closed = { code, reason } }
  terminate (): void { this.closed = { code: 1006, reason: '' } }
  ping (): void {}
  get bufferedAmount (): number { this.bufferedReads++; return this.buffered }
  get received (): Array<Record<string, unknown>> { return this.frames.map(frame => JSON.parse(frame.toString())) }
  /** What the connection got, short: seqs for events and alerts, status or type for the rest. */
  get summary (): Array<number | string> {
    return this.received.map(m => typeof m.seq === 'number' ? m.seq : m.type === 'connection_status' ? String(m.status) : String(m.type))
  }
}

interface Setup {
  resumer: Resumer
  hub: ConnectionHub
  bus: MemoryBus
  errors: Array<{ id: string, err: unknown, outcome: string }>
  join: (id?: string, userId?: string) => { member: Member, connection: FakeConnection }
  publish: (n?: number, draft?: Draft) => Promise<number[]>
}

const event: Draft = { type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', camera_id: 'cam_1', event_type: 'motion', data: {} }
const alertFor = (userId: string): Draft => ({ type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', level: 'info', message: 'm', data: {}, user_id: userId })
const STATISTICS = encode({ type: 'statistics_update', timestamp: '2026-01-01T00:00:00.000Z', data: { n: 1 } })

/** A resumer over the real hub, bus and history, as the service wires them. */
function setup (t: Test, options: Partial<ResumerOptions> = {}, hub = new ConnectionHub()): Setup {
  const bus = new MemoryBus()
  const history = new MemoryHistory({ maxMessages: 1000, windowMs: 60_000 })
  bus.onMessage(message => { history.append(message); hub.deliver(message) })
  const errors: Setup['errors'] = []
  const resumer = new Resumer({
    history,
    stream: bus.stream,
    holdLimit: 100,
    graceMs: 0,
    statisticsFrame: () => STATISTICS,
    isOpen: member => hub.get(member.connection.id) === member,
    onError: (member, err, outcome) => { errors.push({ id: member.connection.id, err, outcome }) },
    ...options
  })
  t.teardown(() => { resumer.stop() })
  const log: string[] = []
  let n = 0
  return {
    resumer,
    hub,
    bus,
    errors,
    join: (id = `c${++n}`, userId = 'alice') => {
      const connection = new FakeConnection(id, userId, log)
      return { member: hub.add(connection), connection }
    },
    publish: async (count = 1, draft = event) => {
      const seqs: number[] = []
      for (let i = 0; i < count; i++) seqs.push((await bus.publish(draft)).seq)
      return seqs
    }
  }
}

const resumed = (connection: FakeConnection) => (): boolean => connection.summary.includes('resumed')

t.test('with last_seq the missed messages are replayed in order, then resumed with their count', async t => {
  const { resumer, join, publish } = setup(t)
  await publish(5)
  const { member, connection } = join()
  resumer.open(member, 2)
  await waitFor(resumed(connection), 'the resume')
  t.same(connection.summary, [3, 4, 5, 'resumed'])
  t.match(connection.received.at(-1), { replayed: 3 })
})

t.test('live messages published during the replay follow it: none twice, none lost, none out of order', async t => {
  const { resumer, join, publish } = setup(t, { sliceSize: 2 })
  await publish(10)
  const { member, connection } = join()
  resumer.open(member, 0)
  await publish(3)
  await waitFor(() => member.gate === null, 'the gate to open')
  await publish(2)
  await waitFor(() => connection.frames.length === 16, 'every message')
  t.same(connection.summary, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 'resumed', 11, 12, 13, 14, 15])
})

t.test('a replay leaves out what the connection may not receive, and counts only what it sent', async t => {
  const { resumer, join, publish } = setup(t)
  await publish(1)
  await publish(1, alertFor('bob'))
  await publish(1, alertFor('alice'))
  const { member, connection } = join()
  resumer.open(member, 0)
  await waitFor(resumed(connection), 'the resume')
  t.same(connection.summary, [1, 3, 'resumed'])
  t.match(connection.received.at(-1), { replayed: 2 })
})

t.test('a replay marks the newest seq it covered, and the live messages after it flow on', async t => {
  const { resumer, join, publish } = setup(t)
  await publish(2)
  const { member, connection } = join()
  resumer.open(member, 0)
  await waitFor(resumed(connection), 'the resume')
  t.equal(member.resumedThrough, 2, 'everything up to the newest message looked at is covered')
  const [seq] = await publish(1)
  await waitFor(() => connection.summary.includes(seq), 'the next live message')
  t.same(connection.summary, [1, 2, 'resumed', 3])
})

t.test('a last_seq older than the history resyncs: resync_required, the latest statistics, then live', async t => {
  const { resumer, join, publish, bus } = setup(t)
  await publish(3)
  const { member, connection } = join()
  resumer.open(member, 10, bus.stream)
  await waitFor(() => member.gate === null, 'the gate to open')
  t.same(connection.summary, ['resync_required', 'statistics_update'])
  t.match(connection.received[0], { message: 'messages after seq 10 are no longer kept; reload the current state' })
  const [seq] = await publish(1)
  await waitFor(() => connection.summary.includes(seq), 'the next live message')
})

t.test('a last_seq from another stream resyncs and says the service restarted', async t => {
  const { resumer, join, publish } = setup(t)
  await publish(3)
  const { member, connection } = join()
  resumer.open(member, 1, 'an-earlier-process')
  await waitFor(() => member.gate === null, 'the gate to open')
  t.match(connection.received[0], { status: 'resync_required', message: /the service restarted/ })
  t.notOk(connection.summary.includes(2), 'nothing replayed')
})

t.test('without statistics yet a resync sends no statistics_update', async t => {
  const { resumer, join } = setup(t, { statisticsFrame: async () => null })
  const { member, connection } = join()
  resumer.open(member, 5)
  await waitFor(() => member.gate === null, 'the gate to open')
  t.same(connection.summary, ['resync_required'])
})

t.test('a history that cannot be read is reported and the client told to resync', async t => {
  const history: History = { append: () => {}, since: async () => { throw new Error('redis down') } }
  const { resumer, join, errors } = setup(t, { history })
  const { member, connection } = join()
  resumer.open(member, 0)
  await waitFor(() => member.gate === null, 'the gate to open')
  t.same(connection.summary, ['resync_required', 'statistics_update'])
  t.match(errors, [{ id: member.connection.id, err: { message: 'redis down' }, outcome: 'resync' }])
})

t.test('a replay that breaks off is reported and the connection closed with 1011', async t => {
  const { resumer, join, publish, errors } = setup(t)
  await publish(2)
  const { member, connection } = join()
  connection.failSends = true
  resumer.open(member, 0)
  await waitFor(() => connection.closed !== null, 'the close')
  t.match(connection.closed, { code: CloseCode.INTERNAL_ERROR, reason: /resume failed on the server/ })
  t.match(errors, [{ outcome: 'closed', err: { message: 'socket broke' } }])
})

t.test('a replay stops for a connection that closed', async t => {
  const closedChecks: string[] = []
  const hub = new ConnectionHub()
  const { resumer, join, publish } = setup(t, {
    backlogBytes: 1000,
    isOpen: member => {
      const open = hub.get(member.connection.id) === member
      if (!open) closedChecks.push(member.connection.id)
      return open
    }
  }, hub)
  await publish(3)
  const { member, connection } = join()
  connection.buffered = 5000 // the replay waits for the backlog to clear
  resumer.open(member, 0)
  await waitFor(() => connection.bufferedReads >= 2, 'the replay to wait')
  hub.remove(member.connection.id)
  await waitFor(() => closedChecks.includes(member.connection.id), 'the replay to see the close')
  t.same(connection.summary, [], 'nothing sent, not even resumed')
})

t.test('a big replay is sent in slices, so another connection\'s replay runs alongside it', async t => {
  const { resumer, join, publish } = setup(t, { sliceSize: 10 })
  await publish(200)
  const a = join('a')
  const b = join('b')
  resumer.open(a.member, 0)
  resumer.open(b.member, 0)
  await waitFor(() => resumed(a.connection)() && resumed(b.connection)(), 'both replays')
  const order = a.connection.log
  t.ok(order.indexOf('b') < order.lastIndexOf('a'), 'b was served before a finished')
})

t.test('a replay waits while the connection has more than backlogBytes queued', async t => {
  const { resumer, join, publish } = setup(t, { backlogBytes: 1000 })
  await publish(3)
  const { member, connection } = join()
  connection.buffered = 5000
  resumer.open(member, 0)
  await waitFor(() => connection.bufferedReads >= 3, 'the replay to look at the backlog a few times')
  t.equal(connection.frames.length, 0, 'nothing sent meanwhile')
  connection.buffered = 0
  await waitFor(resumed(connection), 'the resume')
  t.same(connection.summary, [1, 2, 3, 'resumed'])
})

t.test('without last_seq and without grace the connection is not gated', async t => {
  const { resumer, join, publish } = setup(t)
  const { member, connection } = join()
  resumer.open(member, null)
  t.equal(member.gate, null)
  await publish(1)
  await waitFor(() => connection.frames.length === 1, 'the live message')
})

t.test('within the grace period live messages wait; a first message that is not resume releases them and passes', async t => {
  const { resumer, join, publish } = setup(t, { graceMs: 60_000 })
  const { member, connection } = join()
  resumer.open(member, null)
  await publish(2)
  t.equal(connection.frames.length, 0, 'held')
  t.equal(resumer.offer(member, { type: 'ping' }), 'pass')
  await waitFor(() => connection.frames.length === 2, 'the held messages')
  t.same(connection.summary, [1, 2])
  t.equal(resumer.offer(member, { type: 'ping' }), 'pass', 'later messages pass too')
})

t.test('a resume as the first message is handled and replays; a later one is late', async t => {
  const { resumer, join, publish, bus } = setup(t, { graceMs: 60_000 })
  await publish(2)
  const { member, connection } = join()
  resumer.open(member, null)
  t.equal(resumer.offer(member, { type: 'resume', last_seq: 1, stream: bus.stream }), 'handled')
  await waitFor(resumed(connection), 'the resume')
  t.same(connection.summary, [2, 'resumed'])
  t.equal(resumer.offer(member, { type: 'resume', last_seq: 0 }), 'late')
  t.match(RESUME_NOT_FIRST, /resume must be the first message/)
})

t.test('a resume on a connection never gated (no grace) is late', async t => {
  const { resumer, join } = setup(t)
  const { member } = join()
  resumer.open(member, null)
  t.equal(resumer.offer(member, { type: 'resume', last_seq: 0 }), 'late')
})

t.test('when the grace period ends without a message, the held live messages go out', async t => {
  const { resumer, join, publish } = setup(t, { graceMs: 20 })
  const { member, connection } = join()
  resumer.open(member, null)
  await publish(1)
  await waitFor(() => connection.frames.length === 1, 'the grace to end')
  t.equal(member.gate, null)
})

t.test('a gate that overflows before any resume stops waiting and releases what it holds', async t => {
  const { resumer, join, publish } = setup(t, { graceMs: 60_000, holdLimit: 3 })
  const { member, connection } = join()
  resumer.open(member, null)
  await publish(6)
  await waitFor(() => connection.frames.length === 6, 'every message')
  t.same(connection.summary, [1, 2, 3, 4, 5, 6])
  t.equal(resumer.offer(member, { type: 'resume', last_seq: 0 }), 'late', 'the wait is over')
  t.equal(connection.closed, null)
})

t.test('live messages piling up past the limit during a slow replay close the connection with 1013', async t => {
  const { resumer, join, publish, hub } = setup(t, { holdLimit: 3, backlogBytes: 1000 })
  await publish(2)
  const { member, connection } = join()
  connection.buffered = 5000 // the replay waits
  resumer.open(member, 0)
  await publish(10)
  t.match(connection.closed, { code: CloseCode.TRY_AGAIN_LATER, reason: 'resume fell behind: reconnect with last_seq' })
  // As the session does at close: the waiting replay ends.
  hub.remove(member.connection.id)
})

t.test('stop releases every connection still waiting for a first message', async t => {
  const { resumer, join, publish } = setup(t, { graceMs: 60_000 })
  const a = join()
  const b = join()
  resumer.open(a.member, null)
  resumer.open(b.member, null)
  await publish(1)
  resumer.stop()
  await waitFor(() => a.connection.frames.length === 1 && b.connection.frames.length === 1, 'both released')
})

t.test('a forgotten connection is no longer waited for', async t => {
  const { resumer, join } = setup(t, { graceMs: 60_000 })
  const { member } = join()
  resumer.open(member, null)
  resumer.forget(member)
  t.equal(member.gate, null)
  t.equal(resumer.offer(member, { type: 'resume', last_seq: 0 }), 'late')
})

t.test('a replay follows the connection\'s camera event type filter; alerts pass it', async t => {
  const { resumer, join, publish } = setup(t)
  await publish(1)
  await publish(1, { ...event, event_type: 'face_recognized' })
  await publish(1, alertFor('alice'))
  const { member, connection } = join()
  member.subscription.subscribe([], undefined, undefined, ['face_recognized'])
  resumer.open(member, 0)
  await waitFor(resumed(connection), 'the resume')
  t.same(connection.summary, [2, 3, 'resumed'])
  t.match(connection.received.at(-1), { replayed: 2 })
})
