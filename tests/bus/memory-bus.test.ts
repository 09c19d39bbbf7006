import t from 'tap'
import { MemoryBus } from '../../src/bus/memory-bus.js'
import type { Draft } from '../../src/bus/bus.js'
import { frameOf } from '../../src/protocol/frame-cache.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'

const draft = (camera = 'cam_1'): Draft =>
  ({ type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', camera_id: camera, event_type: 'motion', data: { n: 1 } })

class RecordingLogger {
  readonly errors: Array<{ obj: Record<string, unknown>, msg: string }> = []
  error (obj: object, msg: string): void { this.errors.push({ obj: obj as Record<string, unknown>, msg }) }
}

function collect (bus: MemoryBus): SequencedMessage[] {
  const received: SequencedMessage[] = []
  bus.onMessage(message => { received.push(message) })
  return received
}

t.test('seq starts at 1 and counts every publish, in delivery order', async t => {
  const bus = new MemoryBus()
  const received = collect(bus)
  t.same(await bus.publish(draft('a')), { seq: 1, replayed: false })
  t.same(await bus.publish({ type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', level: 'info', message: 'm', data: {} }), { seq: 2, replayed: false })
  t.same(received.map(m => m.seq), [1, 2])
})

t.test('every bus is a new stream with its own sequence', async t => {
  const a = new MemoryBus()
  const b = new MemoryBus()
  t.not(a.stream, b.stream)
  t.match(a.stream, /^[0-9a-f-]{36}$/)
  await a.publish(draft())
  t.equal((await b.publish(draft())).seq, 1)
})

t.test('delivery is synchronous: handlers have the message when publish resolves', async t => {
  const bus = new MemoryBus()
  let seen = 0
  bus.onMessage(() => { seen++ })
  const publishing = bus.publish(draft())
  t.equal(seen, 1, 'before the promise settles')
  await publishing
})

t.test('a message carries seq right after timestamp, and its frame is exactly its JSON', async t => {
  const bus = new MemoryBus()
  const received = collect(bus)
  await bus.publish(draft())
  const [message] = received
  t.same(Object.keys(message), ['type', 'timestamp', 'seq', 'camera_id', 'event_type', 'data'])
  t.equal(frameOf(message).toString(), JSON.stringify(message))
})

t.test('every handler gets the same message object, so its frame is encoded once', async t => {
  const bus = new MemoryBus()
  const first = collect(bus)
  const second = collect(bus)
  await bus.publish(draft())
  t.equal(first[0], second[0])
})

t.test('a removed handler gets nothing more', async t => {
  const bus = new MemoryBus()
  let seen = 0
  const stop = bus.onMessage(() => { seen++ })
  await bus.publish(draft())
  stop()
  stop()
  await bus.publish(draft())
  t.equal(seen, 1)
})

t.test('a handler that throws is logged with the seq; the others still get the message and the publish succeeds', async t => {
  const logger = new RecordingLogger()
  const bus = new MemoryBus({ logger })
  bus.onMessage(() => { throw new Error('broken consumer') })
  const received = collect(bus)
  t.same(await bus.publish(draft()), { seq: 1, replayed: false })
  t.equal(received.length, 1)
  t.equal(logger.errors.length, 1)
  t.match(logger.errors[0], { obj: { seq: 1, err: { message: 'broken consumer' } }, msg: /a bus handler failed/ })
})

t.test('with an idempotency window a repeated key publishes nothing and answers the first seq', async t => {
  const bus = new MemoryBus({ idempotencyWindowMs: 60_000 })
  const received = collect(bus)
  t.same(await bus.publish(draft(), 'k'), { seq: 1, replayed: false })
  t.same(await bus.publish(draft(), 'k'), { seq: 1, replayed: true })
  t.same(await bus.publish(draft(), 'other'), { seq: 2, replayed: false })
  t.equal(received.length, 2)
})

t.test('without an idempotency window keys are ignored', async t => {
  const bus = new MemoryBus()
  const received = collect(bus)
  await bus.publish(draft(), 'k')
  t.same(await bus.publish(draft(), 'k'), { seq: 2, replayed: false })
  t.equal(received.length, 2)
})

t.test('a draft that cannot be encoded is refused and uses up no seq', async t => {
  const bus = new MemoryBus()
  const received = collect(bus)
  const bad = { ...draft(), data: { n: 1n } } as unknown as Draft
  await t.rejects(bus.publish(bad), TypeError)
  t.equal(received.length, 0, 'nothing delivered')
  t.equal((await bus.publish(draft())).seq, 1)
})

t.test('after close no handler is called', async t => {
  const bus = new MemoryBus()
  const received = collect(bus)
  await bus.close()
  await bus.publish(draft())
  t.equal(received.length, 0)
})
