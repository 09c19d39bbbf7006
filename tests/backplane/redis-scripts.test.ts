import t from 'tap'
import { createRedisClient } from '../../src/backplane/redis/redis-client.js'
import * as leaseScripts from '../../src/backplane/redis/lease-scripts.js'
import * as busScripts from '../../src/backplane/redis/scripts.js'
import { Script } from '../../src/backplane/redis/script.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

/**
 * Every script is in Redis's cache before an instance serves. A script run
 * first through the NOSCRIPT fallback is sent again after its answer, so a
 * command sent meanwhile (the lease refresh that counts this instance's
 * slots) would run before it: the first release after start-up then looked
 * like a slot Redis held for nobody, and the instance "repaired" its count.
 */
t.test('an instance loads every script before it serves, so none is first run out of order', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const client = createRedisClient(redis.url, 'scripts-test')
  t.teardown(() => { client.disconnect() })
  await client.connect()
  const all = [...Object.values(leaseScripts), ...Object.values(busScripts)].filter((value): value is Script => value instanceof Script)
  t.ok(all.length >= 10, `the service's scripts (${all.length})`)
  t.same(await client.script('EXISTS', ...all.map(script => script.sha)), all.map(() => 0), 'a fresh Redis knows none')

  await startInstance(t, redis)
  t.same(await client.script('EXISTS', ...all.map(script => script.sha)), all.map(() => 1), 'after start-up it knows every one')
})
