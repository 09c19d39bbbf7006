import { once } from 'node:events'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import t from 'tap'
import { Keys } from '../../src/backplane/redis/keys.js'
import type { RedisSlotLimiter } from '../../src/backplane/redis/slot-leases.js'
import { createRedisClient, dropIfHung, REDIS_COMMAND_TIMEOUT_MS } from '../../src/backplane/redis/redis-client.js'
import { connect as connectClient, waitFor } from '../helper.js'
import { frameAfterHeaders, sendUpgrade } from '../raw-upgrade.js'
import { BUSY_SCRIPT, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'
import { stallUntil, unreadBytes } from '../stall.js'

/**
 * When this process, not Redis, was late (its event loop busy past a
 * deadline), an answer Redis sent in time is waiting unread in the socket
 * when the deadline's timer fires. The service reads it before it judges.
 */

/** The local port of the connection Redis knows by `name` (CLIENT SETNAME). */
async function portOfClient (admin: Redis, name: string): Promise<number> {
  const list = await admin.client('LIST') as string
  const line = list.split('\n').find(entry => entry.includes(` name=${name} `))
  if (line === undefined) throw new Error(`no Redis client named ${name} in CLIENT LIST`)
  return Number(/ addr=127\.0\.0\.1:(\d+) /.exec(line)?.[1])
}

// Past the acquire timeout only, and past the Redis command timeout too (whose timer is also one of ours).
for (const [stalledPast, stallMs] of [['the acquire timeout', 650], ['the Redis command timeout', REDIS_COMMAND_TIMEOUT_MS + 50]] as const) {
t.test(`a slot Redis granted in time is not refused because this process read the answer after ${stalledPast}`, { skip: NEEDS_REDIS }, async t => {
  const timeoutMs = 600
  const redis = await RedisServer.start(t)
  const instance = await startInstance(t, redis, { REDIS_ACQUIRE_TIMEOUT_MS: timeoutMs })
  const slots = instance.app.backplane.slots as RedisSlotLimiter
  const admin = redis.client(t)
  // Registered, scripts loaded, and the acquires' connection known.
  await connectClient(instance, t, 'warm')
  const port = await portOfClient(admin, 'push')

  // Redis is busy for a while, so the acquire waits in its input buffer.
  await admin.ping()
  const busy = admin.eval(BUSY_SCRIPT, 0, 300)
  const socket = await sendUpgrade(t, instance.port, 'stalled')
  const chunk = once(socket, 'data') as Promise<[Buffer]>
  await waitFor(() => slots.expectation()?.unsettled.length === 1, 'the acquire to be sent')
  // Stalled from a setImmediate, as a fan-out slice would be: the loop's next
  // turn then starts with its timers (stalled from a timer callback, Node
  // would read the socket first, whatever the service did).
  await nextTurn()
  const sent = Date.now()
  t.ok((unreadBytes(redis.port, port) ?? 0) > 0, 'the acquire waits unread in Redis, which is still busy')

  // Redis runs the acquire when the busy script ends, well within the
  // timeout; this process reads nothing until the timeout has passed.
  stallUntil(() => (unreadBytes(port, redis.port) ?? 0) > 0 && Date.now() > sent + stallMs, "Redis's answer to the acquire")

  const [bytes] = await chunk
  t.match(bytes.toString('latin1'), /^HTTP\/1\.1 101 Switching Protocols\r\n/, 'the upgrade was accepted')
  const frame = frameAfterHeaders(bytes)
  t.equal(frame?.opcode, 1, 'a text frame, not a close frame')
  t.match(JSON.parse(frame?.payload.toString() ?? '{}'), { type: 'connection_status', status: 'connected' }, 'the handshake was admitted')
  await busy
  t.equal(await admin.hlen(Keys.slots('stalled')), 1, 'and holds its slot in Redis')
})
}

t.test('a command Redis answered in time succeeds though this process read the answer only after the command timeout', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const client = createRedisClient(redis.url, 'own-stall-test')
  t.teardown(() => { client.disconnect() })
  await client.connect()
  const stream = client.stream
  const port = stream.localPort as number
  let closes = 0
  client.on('close', () => { closes++ })

  const sent = Date.now()
  const reply = client.set('key', 'value').then(() => 'answered', (err: unknown) => {
    dropIfHung(client, err)
    return (err as Error).message
  })
  stallUntil(() => (unreadBytes(port, redis.port) ?? 0) > 0 && Date.now() > sent + REDIS_COMMAND_TIMEOUT_MS + 50, "Redis's answer")
  t.equal(await reply, 'answered', 'the command got its answer: the timeout was judged after the answer had been read')

  t.equal(await client.get('key'), 'value', 'the connection keeps answering')
  t.equal(client.stream, stream, 'on the same socket')
  t.equal(closes, 0, 'it was never dropped')
})
