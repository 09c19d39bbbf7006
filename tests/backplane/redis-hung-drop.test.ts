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
  redis.resume()

  // The one drop still makes the client reconnect on a new socket.
  await eventually(async () => client.status === 'ready' && client.stream !== stream, 'the client to reconnect on a new socket')
  t.equal(await client.ping(), 'PONG')
  await new Promise(resolve => setImmediate(resolve))
  t.same(warnings.filter(w => w.name === 'MaxListenersExceededWarning').map(w => w.message), [], 'no MaxListenersExceededWarning')
})
