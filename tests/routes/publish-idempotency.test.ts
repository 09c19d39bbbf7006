import t, { type Test as TapTest } from 'tap'
import { Client, connect, publishEvent, startServer, token, type Server } from '../helper.js'
import { eventually, NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

/**
 * A publish may carry an Idempotency-Key. A retry with the same key from
 * the same publisher within IDEMPOTENCY_WINDOW_MS answers the first seq and
 * publishes nothing, in memory and in Redis mode, even when the first
 * publish ran late in a stalled Redis after its caller got a 503.
 */

interface Answer { status: number, seq: number | undefined, replayed: boolean, body: Record<string, unknown> }

async function publishKeyed (server: Server, key: string | null, publisher = 'cm', body: Record<string, unknown> = { camera_id: 'cam-1', event_type: 'motion' }): Promise<Answer> {
  const response = await fetch(`${server.url}/api/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token(publisher, { roles: ['publisher'] })}`,
      ...(key === null ? {} : { 'idempotency-key': key })
    },
    body: JSON.stringify(body)
  })
  const reply = await response.json() as Record<string, unknown>
  return { status: response.status, seq: reply.seq as number | undefined, replayed: response.headers.get('idempotent-replayed') === 'true', body: reply }
}

/** Publishes an unkeyed marker and waits for it: everything published before has reached the client. */
async function settle (server: Server, client: Client): Promise<void> {
  const response = await publishEvent(server, { camera_id: 'cam-1', event_type: 'marker' })
  const { seq } = await response.json() as { seq: number }
  await client.next(m => m.type === 'camera_event' && m.seq === seq)
}

const timesReceived = (client: Client, seq: number): number => client.messages.filter(m => m.type === 'camera_event' && m.seq === seq).length

async function checkDuplicates (t: TapTest, first: Server, second: Server, client: Client): Promise<void> {
  const a = await publishKeyed(first, 'order-42')
  t.equal(a.status, 202)
  t.notOk(a.replayed, 'the first publish is not a replay')
  const b = await publishKeyed(second, 'order-42')
  t.same([b.status, b.seq, b.replayed], [202, a.seq, true], 'the retry gets the same seq, marked replayed')
  t.same(b.body, { seq: a.seq }, 'and the same body')

  const concurrent = await Promise.all(Array.from({ length: 5 }, async (_, i) => await publishKeyed(i % 2 === 0 ? first : second, 'order-43')))
  t.equal(new Set(concurrent.map(r => r.seq)).size, 1, 'concurrent duplicates share one seq')
  t.equal(concurrent.filter(r => !r.replayed).length, 1, 'exactly one of them published')

  const other = await publishKeyed(first, 'order-42', 'another-publisher')
  t.not(other.seq, a.seq, 'keys are per publisher: the same key from another one publishes')

  await settle(first, client)
  t.equal(timesReceived(client, a.seq!), 1, 'the client got the keyed event once')
  t.equal(timesReceived(client, concurrent[0].seq!), 1, 'and the concurrent one once')
}

t.test('memory mode: a retry with the same key gets the first seq and nothing is delivered twice', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0 })
  const client = await connect(server, t, 'viewer')
  await checkDuplicates(t, server, server, client)
})

t.test('a bad Idempotency-Key is a 400 that says what is allowed', async t => {
  const server = await startServer(t)
  for (const key of ['has space', 'x'.repeat(129), 'a, b']) {
    const answer = await publishKeyed(server, key)
    t.equal(answer.status, 400, `${key.slice(0, 20)}: 400`)
    t.match(answer.body, { code: 'PUSH_INVALID_IDEMPOTENCY_KEY', message: /1 to 128 visible ASCII characters/ })
  }
  t.equal((await publishKeyed(server, 'x'.repeat(128))).status, 202, '128 characters are fine')
})

t.test('IDEMPOTENCY_WINDOW_MS=0 ignores the key', async t => {
  const server = await startServer(t, { IDEMPOTENCY_WINDOW_MS: 0 })
  const a = await publishKeyed(server, 'k')
  const b = await publishKeyed(server, 'k')
  t.not(a.seq, b.seq)
  t.notOk(b.replayed)
})

t.test('Redis mode: a retry on another instance gets the first seq; the client gets the event once', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis, { RATE_LIMIT_MAX: 0 })
  const b = await startInstance(t, redis, { RATE_LIMIT_MAX: 0 })
  const client = await connect(a, t, 'viewer')
  await checkDuplicates(t, a, b, client)
  const ttl = await redis.client(t).pttl(`push:idem:cm:order-42`)
  t.ok(ttl > 0 && ttl <= 300_000, 'the key expires with IDEMPOTENCY_WINDOW_MS')
})

t.test('Redis mode: a publish that times out in a stalled Redis is 503 "unknown"; the retry with its key gets the late seq', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const server = await startInstance(t, redis, { RATE_LIMIT_MAX: 0 })
  const client = await connect(server, t, 'viewer')
  // One publish first: Redis knows the script by its SHA1 when it stalls.
  await settle(server, client)

  redis.pause()
  t.teardown(() => { redis.resume() })
  const stalled = await publishKeyed(server, 'stall-1')
  t.equal(stalled.status, 503)
  t.match(stalled.body, { code: 'PUSH_PUBLISH_UNCONFIRMED', message: /outcome is unknown.*same Idempotency-Key/ })

  const refused = await publishKeyed(server, 'stall-2')
  t.match(refused.body, { code: 'PUSH_BUS_UNAVAILABLE', message: /nothing was published/ }, 'once the connection is known to be down, nothing is sent')
  redis.resume()

  // The stalled script runs once Redis continues; the client gets its event.
  const late = await client.next(m => m.type === 'camera_event' && m.event_type === 'motion')
  let retry: Answer | undefined
  await eventually(async () => (retry = await publishKeyed(server, 'stall-1')).status === 202, 'the retry to be accepted')
  t.same([retry!.seq, retry!.replayed], [late.seq, true], 'the retry answers the seq of the late run and publishes nothing')
  await settle(server, client)
  t.equal(timesReceived(client, late.seq as number), 1, 'the client got it once')
  t.equal(client.messages.filter(m => m.type === 'camera_event' && m.event_type === 'motion').length, 1, 'and nothing else for that publish')
})

t.test('a bus handler that throws neither fails an accepted publish nor lets its retry publish twice', async t => {
  const server = await startServer(t, { RATE_LIMIT_MAX: 0 })
  const client = await connect(server, t, 'viewer')
  const stop = server.app.bus.onMessage(() => { throw new Error('a broken consumer') })
  t.teardown(stop)
  const first = await publishKeyed(server, 'k-1')
  t.equal(first.status, 202, 'the publish is accepted')
  t.equal((await client.nextOfType('camera_event')).seq, first.seq, 'and delivered')
  const retry = await publishKeyed(server, 'k-1')
  t.same([retry.seq, retry.replayed], [first.seq, true], 'the retry publishes nothing')
  await settle(server, client)
  t.equal(timesReceived(client, first.seq!), 1)
})
