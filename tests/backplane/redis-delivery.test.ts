import t from 'tap'
import { connect, publishEvent, token } from '../helper.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

const EVENTS = 30

t.test('events posted at the same moment to different instances reach every connection exactly once, in seq order', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instances = await Promise.all([startInstance(t, redis), startInstance(t, redis), startInstance(t, redis)])
  const clients = await Promise.all(instances.map(async (instance, i) => await connect(instance, t, `viewer-${i}`)))

  // Every post at once, spread over the three instances.
  const replies = await Promise.all(Array.from({ length: EVENTS }, async (_, i) => {
    const response = await publishEvent(instances[i % 3], { camera_id: `cam-${i}`, event_type: 'motion_detected' })
    t.equal(response.status, 202)
    return (await response.json() as { seq: number }).seq
  }))
  const seqs = [...replies].sort((a, b) => a - b)
  t.same(seqs, Array.from({ length: EVENTS }, (_, i) => i + 1), 'the seqs handed out are 1..N, each once')

  // A last event, posted after all others were accepted, marks the end of the stream.
  const last = await publishEvent(instances[0], { camera_id: 'end', event_type: 'motion_detected' })
  const lastSeq = (await last.json() as { seq: number }).seq
  t.equal(lastSeq, EVENTS + 1)

  for (const [i, client] of clients.entries()) {
    await client.next(message => message.type === 'camera_event' && message.seq === lastSeq)
    const received = client.messages.filter(message => message.type === 'camera_event').map(message => message.seq as number)
    t.same(received, Array.from({ length: EVENTS + 1 }, (_, k) => k + 1), `instance ${i} delivered every event once, in seq order`)
    const byCamera = client.messages.find(message => message.type === 'camera_event' && message.seq === replies[7])
    t.equal(byCamera?.camera_id, 'cam-7', 'each seq carries the event it was given for')
  }
})

t.test('an alert for one user reaches that user on every instance, and only that user', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const [a, b] = await Promise.all([startInstance(t, redis), startInstance(t, redis)])
  const aliceOnA = await connect(a, t, 'alice')
  const aliceOnB = await connect(b, t, 'alice')
  const bobOnB = await connect(b, t, 'bob')
  const response = await fetch(`${a.url}/api/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('ops', { roles: ['publisher'] })}` },
    body: JSON.stringify({ level: 'warning', message: 'for alice', user_id: 'alice' })
  })
  t.equal(response.status, 202)
  const everyone = await publishEvent(b, { camera_id: 'c', event_type: 'motion_detected' })
  const everyoneSeq = (await everyone.json() as { seq: number }).seq
  for (const client of [aliceOnA, aliceOnB]) {
    const alert = await client.nextOfType('alert')
    t.equal(alert.message, 'for alice')
  }
  await bobOnB.next(message => message.seq === everyoneSeq)
  t.notOk(bobOnB.messages.some(message => message.type === 'alert'), 'bob got no alert meant for alice')
})
