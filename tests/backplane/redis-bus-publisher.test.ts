import t from 'tap'
import type { Redis } from 'ioredis'
import { RedisBus } from '../../src/backplane/redis/redis-bus.js'
import { frameOf } from '../../src/protocol/frame-cache.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { eventually, NEEDS_REDIS, RedisServer } from '../redis.js'

interface Started { bus: RedisBus, subscriber: Redis, received: SequencedMessage[] }

async function startBus (t: { teardown (fn: () => unknown): void }, redis: RedisServer): Promise<Started> {
  const client = redis.client(t)
  const subscriber = redis.client(t)
  const bus = new RedisBus({ client, subscriber, storedMessages: 100, logger: { warn () {} } })
  t.teardown(async () => { await bus.close() })
  await eventually(async () => client.status === 'ready' && subscriber.status === 'ready', 'both connections ready')
  await bus.start()
  const received: SequencedMessage[] = []
  bus.onMessage(message => { received.push(message) })
  return { bus, subscriber, received }
}

function draft (camera: string): Parameters<RedisBus['publish']>[0] {
  return { type: 'camera_event', camera_id: camera, event_type: 'motion_detected', timestamp: new Date().toISOString(), data: { zone: 'entrance' } }
}

const seqs = (messages: SequencedMessage[]): number[] => messages.map(message => message.seq)

t.test('the publishing instance delivers its own message from the script\'s reply, once, with the bytes the channel carries', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startBus(t, redis)
  const b = await startBus(t, redis)
  // A reads nothing from its channel connection: only the reply can deliver A's message.
  a.subscriber.stream.pause()
  const { seq } = await a.bus.publish(draft('cam-a'))
  t.same(seqs(a.received), [seq], 'delivered on A by the time its publish resolved')
  await eventually(async () => b.received.length === 1, 'B got it through the channel')
  t.equal(frameOf(a.received[0]).toString(), frameOf(b.received[0]).toString(), 'the same frame on both instances')

  a.subscriber.stream.resume()
  const next = await b.bus.publish(draft('cam-b'))
  await eventually(async () => a.received.some(message => message.seq === next.seq), 'A got B\'s message through the channel')
  t.same(seqs(a.received), [seq, next.seq], 'the channel copy of A\'s own message was not delivered again')
})

t.test('a reply that would skip a seq waits for the channel: the publisher never delivers out of order', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startBus(t, redis)
  const b = await startBus(t, redis)
  a.subscriber.stream.pause()
  const first = await b.bus.publish(draft('cam-b'))
  const second = await a.bus.publish(draft('cam-a'))
  t.equal(second.seq, first.seq + 1)
  t.same(seqs(a.received), [], 'A holds its own message while the one before it has not arrived')
  a.subscriber.stream.resume()
  await eventually(async () => a.received.length === 2, 'A got both')
  t.same(seqs(a.received), [first.seq, second.seq], 'in seq order, each once')
})

t.test('a replayed publish (same idempotency key) delivers nothing again', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const client = redis.client(t)
  const subscriber = redis.client(t)
  const bus = new RedisBus({ client, subscriber, storedMessages: 100, idempotencyWindowMs: 60_000, logger: { warn () {} } })
  t.teardown(async () => { await bus.close() })
  await eventually(async () => client.status === 'ready' && subscriber.status === 'ready', 'both connections ready')
  await bus.start()
  const received: SequencedMessage[] = []
  bus.onMessage(message => { received.push(message) })
  const first = await bus.publish(draft('cam-a'), 'key-1')
  const again = await bus.publish(draft('cam-a'), 'key-1')
  t.same(again, { seq: first.seq, replayed: true })
  const marker = await bus.publish(draft('cam-end'))
  await eventually(async () => received.some(message => message.seq === marker.seq), 'the marker arrived')
  t.same(seqs(received), [first.seq, marker.seq], 'the first publish once, then the marker')
})
