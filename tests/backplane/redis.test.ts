import t from 'tap'
import { testConfig } from '../helper.js'
import { NEEDS_REDIS, RedisServer } from '../redis.js'
import { backplaneContract } from './contract.js'

t.test('the Redis backplane keeps the backplane contract', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const admin = redis.client(t)
  await backplaneContract(t, async (_t, overrides) => {
    // Each test starts from an empty Redis, like a new cluster.
    await admin.flushall()
    return testConfig({ ...overrides, REDIS_URL: redis.url })
  })
})
