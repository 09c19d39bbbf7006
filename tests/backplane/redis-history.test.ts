import t from 'tap'
import { RedisHistory } from '../../src/backplane/redis/redis-history.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { publishEvent } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

function event (seq: number): SequencedMessage {
  return { type: 'camera_event', timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), seq, camera_id: `cam-${seq}`, event_type: 'motion_detected', data: { n: seq } }
}

t.test('RedisHistory on its own: shared, idempotent, bounded', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const one = new RedisHistory({ client: redis.client(t), maxMessages: 5 })
  const two = new RedisHistory({ client: redis.client(t), maxMessages: 5 })
  const counter = redis.client(t)

  t.same(await one.since(0), [], 'nothing published, nothing missed')
  for (let seq = 1; seq <= 3; seq++) {
    await counter.set('push:seq', seq)
    await one.append(event(seq))
    await two.append(event(seq)) // every instance may append the same message
  }
  t.same(await two.since(0), [event(1), event(2), event(3)], 'what one instance appended, another reads, once each')
  t.same(await one.since(1), [event(2), event(3)])
  t.same(await one.since(3), [], 'up to date')

  for (let seq = 4; seq <= 8; seq++) {
    await counter.set('push:seq', seq)
    await one.append(event(seq))
  }
  t.same((await two.since(3))?.map(message => message.seq), [4, 5, 6, 7, 8], 'the five kept')
  t.equal(await two.since(2), null, 'older than what is kept: resync')
  t.equal(await two.since(0), null)

  await redis.restart()
  // The clients reconnect by themselves; the counter survives elsewhere (instances raise it to their floor).
  await eventually(async () => await counter.set('push:seq', 8) === 'OK', 'Redis to be back')
  t.equal(await one.since(5), null, 'history lost with Redis: resync')
  t.same(await one.since(8), [], 'a client that saw everything has nothing to resync')
})

t.test('the cluster history holds what any instance published, for a reconnect to another', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const [a, b] = await Promise.all([startInstance(t, redis), startInstance(t, redis)])
  const seqs: number[] = []
  for (let i = 0; i < 4; i++) {
    const response = await publishEvent(i % 2 === 0 ? a : b, { camera_id: `cam-${i}`, event_type: 'motion_detected', data: { i } })
    seqs.push((await response.json() as { seq: number }).seq)
  }
  const missed = await b.app.backplane.history.since(seqs[1])
  t.same(missed?.map(message => message.seq), [seqs[2], seqs[3]])
  t.same(missed?.map(message => message.type === 'camera_event' ? message.camera_id : null), ['cam-2', 'cam-3'])
  t.same(missed?.[0].data, { i: 2 })
  // Appending a delivered message again (as a per-instance history would) changes nothing.
  await a.app.backplane.history.append(missed![0])
  t.same((await a.app.backplane.history.since(0))?.map(message => message.seq), seqs)
})
