import t from 'tap'
import { connect, startServer } from '../helper.js'
import { Channels, Keys } from '../../src/backplane/redis/keys.js'
import { eventually, killHard, NEEDS_REDIS, RedisServer, ReplyHoldingProxy, spawnInstance, startInstance } from '../redis.js'
import { ADMIN, changesOf, statusOf, watchPresence } from './presence.js'

const LEASE_MS = 900

t.test('presence spans instances: a user is online from their first connection anywhere to their last', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis, { PRESENCE_OFFLINE_DELAY_MS: 100 })
  const b = await startInstance(t, redis, { PRESENCE_OFFLINE_DELAY_MS: 100 })
  const adminA = await connect(a, t, 'root', ADMIN)
  await watchPresence(adminA)

  const bobOnB = await connect(b, t, 'bob')
  t.match(await statusOf(adminA, 'bob'), { online: true }, 'a user on B shows online on A')
  const adminB = await connect(b, t, 'auditor', { roles: ['presence'] })
  const snapshot = await watchPresence(adminB)
  t.same(snapshot.users.map(user => user.user_id).sort(), ['auditor', 'bob', 'root'], 'B\'s snapshot names users of both instances')

  const bobOnA = await connect(a, t, 'bob')
  bobOnB.ws.close()
  await bobOnB.closed
  // A user that leaves after bob closed on B: once their offline arrives, any of bob's would have.
  const carol = await connect(b, t, 'carol')
  await statusOf(adminA, 'carol')
  carol.ws.close()
  t.match(await statusOf(adminA, 'carol'), { online: false })
  t.same(changesOf(adminA, 'bob').map(change => change.online), [true], 'bob still holds a connection on A: no offline')
  adminA.send({ type: 'get_online_users' })
  const list = await adminA.nextOfType('online_users_list')
  t.match((list.users as Array<{ user_id: string }>).find(user => user.user_id === 'bob'), { connections: 1 })

  bobOnA.ws.close()
  t.match(await statusOf(adminA, 'bob'), { online: false }, 'the last connection anywhere closed: offline')
  t.match(await statusOf(adminB, 'bob'), { online: false }, 'seen on B too')
})

t.test('the users of an instance killed with SIGKILL go offline after its lease', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const survivor = await startInstance(t, redis, { INSTANCE_LEASE_MS: LEASE_MS, PRESENCE_OFFLINE_DELAY_MS: 100 })
  const doomed = await spawnInstance(t, { REDIS_URL: redis.url, INSTANCE_LEASE_MS: String(LEASE_MS), PRESENCE_OFFLINE_DELAY_MS: '100' })
  const admin = await connect(survivor, t, 'root', ADMIN)
  await watchPresence(admin)
  await connect(doomed.server, t, 'erin')
  await connect(doomed.server, t, 'erin')
  t.match(await statusOf(admin, 'erin'), { online: true })

  await killHard(doomed.child)
  t.match(await statusOf(admin, 'erin'), { online: false }, 'offline once the dead instance\'s lease expired')
  t.same(changesOf(admin, 'erin').map(change => change.online), [true, false])
  admin.send({ type: 'get_online_users' })
  t.match(await admin.nextOfType('online_users_list'), { count: 1, users: [{ user_id: 'root' }] })
})

t.test('an instance whose presence subscription dropped sends its watchers a fresh snapshot once it is back', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const toA = await ReplyHoldingProxy.start(t, redis.port)
  const a = await startServer(t, { REDIS_URL: toA.url, PRESENCE_OFFLINE_DELAY_MS: 100 })
  const b = await startInstance(t, redis)
  const admin = await connect(a, t, 'root', ADMIN)
  t.same((await watchPresence(admin)).users.map(user => user.user_id), ['root'])

  // A's presence subscription drops and stays down while carol comes online on B: A misses that change.
  const redisAdmin = redis.client(t)
  const subscribers = async (): Promise<number> => Number((await redisAdmin.pubsub('NUMSUB', Channels.presence))[1])
  toA.refuse(['push-presence'])
  toA.cut('push-presence')
  await eventually(async () => await subscribers() === 1, 'A\'s presence subscription to drop')
  await connect(b, t, 'carol')
  t.equal(await redisAdmin.hexists(Keys.presenceOnline, 'carol'), 1, 'carol is online (announced while A was not listening)')

  toA.accept()
  const fresh = await admin.next(m => m.type === 'presence')
  t.same((fresh.users as Array<{ user_id: string }>).map(user => user.user_id).sort(), ['carol', 'root'], 'a fresh snapshot names the user A missed')
  t.equal(fresh.count, 2)
  // And changes flow again after it.
  const dave = await connect(b, t, 'dave')
  t.match(await statusOf(admin, 'dave'), { online: true })
  dave.ws.close()
  t.match(await statusOf(admin, 'dave'), { online: false })
})
