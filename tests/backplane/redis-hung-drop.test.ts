import { once } from 'node:events'
import t from 'tap'
import { createRedisClient, dropIfHung, REDIS_COMMAND_TIMEOUT_MS } from '../../src/backplane/redis/redis-client.js'
import { eventually, NEEDS_REDIS, RedisServer } from '../redis.js'

t.test('a Redis stall that times out many commands at once drops the connection once', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const client = createRedisClient(redis.url, 'hung-drop-test')
  t.teardown(() => { client.disconnect() })
  await client.connect()
  const stream = client.stream
  const baseline = stream.listenerCount('close')

  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })

  // Every command in flight times out together, as the services' slot,
  // lease and publish commands do during a stall; each caller drops the
  // connection as the service code does.
  redis.pause()
  let timedOut = 0
  await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    await client.get(`key-${i}`).catch((err: unknown) => {
      if ((err as Error).message === 'Command timed out') timedOut++
      dropIfHung(client, err)
    })
  }))
  t.equal(timedOut, 30, `every command timed out after ${REDIS_COMMAND_TIMEOUT_MS} ms`)
  t.ok(stream.listenerCount('close') <= baseline + 1, `the hung socket got at most one more 'close' listener (has ${stream.listenerCount('close')}, had ${baseline})`)
  // Dropped while Redis is still silent (the decision waits one turn for
  // replies already received; a Redis answering again by then is kept).
  if (!stream.destroyed) await once(stream, 'close')
  redis.resume()

  // The one drop still makes the client reconnect on a new socket.
  await eventually(async () => client.status === 'ready' && client.stream !== stream, 'the client to reconnect on a new socket')
  t.equal(await client.ping(), 'PONG')
  await new Promise(resolve => setImmediate(resolve))
  t.same(warnings.filter(w => w.name === 'MaxListenersExceededWarning').map(w => w.message), [], 'no MaxListenersExceededWarning')
})

t.test('commands that time out behind a queue while Redis keeps answering do not drop the connection', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const client = createRedisClient(redis.url, 'slow-queue-test')
  t.teardown(() => { client.disconnect() })
  await client.connect()
  const stream = client.stream
  let closes = 0
  client.on('close', () => { closes++ })

  // 3,000 commands of at least 1 ms each, sent at once: Redis reads a few
  // dozen per turn and answers them, so replies keep arriving while the last
  // ones wait longer than the command timeout (2 s) behind the first ones,
  // however fast the machine is.
  const busy = "local t0 = redis.call('TIME') local s = t0[1] * 1000 + t0[2] / 1000 repeat local t = redis.call('TIME') until t[1] * 1000 + t[2] / 1000 - s >= 1 return 1"
  let timedOut = 0
  await Promise.all(Array.from({ length: 3000 }, async () => {
    await client.eval(busy, 0).catch((err: unknown) => {
      if ((err as Error).message === 'Command timed out') timedOut++
      dropIfHung(client, err)
    })
  }))
  t.ok(timedOut > 0, `some commands timed out in the queue (${timedOut})`)
  t.equal(client.stream, stream, 'the connection was kept')
  t.equal(closes, 0, 'and never closed')
  // Redis still works through the queue; then it answers at once, on the same connection.
  await eventually(async () => await client.ping().then(() => true, () => false), 'Redis to have worked through the queue', 60_000)
  t.equal(client.stream, stream, 'on the same connection')
})
