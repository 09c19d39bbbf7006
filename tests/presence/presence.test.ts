import t from 'tap'
import { Client, connect, startServer, token, type Server, type Test } from '../helper.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'
import type { Config } from '../../src/config.js'
import { ADMIN, changesOf, statusOf, watchPresence } from './presence.js'

type Start = (t: Test, overrides?: Partial<Config>) => Promise<Server>

const modes: Array<{ name: string, skip: string | false, start: (t: Test) => Promise<Start> }> = [
  { name: 'in memory', skip: false, start: async () => async (t, overrides = {}) => await startServer(t, overrides) },
  {
    name: 'with Redis',
    skip: NEEDS_REDIS,
    start: async t => {
      const redis = await RedisServer.start(t)
      return async (t, overrides = {}) => await startInstance(t, redis, overrides)
    }
  }
]

for (const mode of modes) {
  t.test(`presence ${mode.name}`, { skip: mode.skip }, async t => {
    t.test('non-admins get forbidden and stay connected; the rest of the subscribe applies', async t => {
      const start = await mode.start(t)
      const server = await start(t)
      const guard = await connect(server, t, 'guard')
      guard.send({ type: 'subscribe', event_types: ['presence', 'alert'] })
      const error = await guard.nextOfType('error')
      t.equal(error.code, 'forbidden')
      t.match(error.message, /"admin" or "presence" role/)
      const subscribed = await guard.nextOfType('subscribed')
      t.same(subscribed.event_types, ['camera_event', 'alert'], 'no presence in the effective subscription')
      guard.send({ type: 'get_online_users' })
      t.equal((await guard.nextOfType('error')).code, 'forbidden')
      await guard.roundTrip()
      t.equal(guard.ws.readyState, guard.ws.OPEN, 'still connected')
      t.notOk(guard.messages.some(message => message.type === 'presence' || message.type === 'online_users_list'))
    })

    t.test('an admin gets the snapshot, then each user online and, after the delay, offline', async t => {
      const start = await mode.start(t)
      const server = await start(t, { PRESENCE_OFFLINE_DELAY_MS: 200 })
      const watcher = await connect(server, t, 'watcher', { roles: ['presence'] })
      const snapshot = await watchPresence(watcher)
      t.equal(snapshot.count, 1)
      t.match(snapshot.users, [{ user_id: 'watcher', connections: 1, since: String }])
      t.same(snapshot.subscribed, ['camera_event', 'alert', 'presence'])

      const bob = await connect(server, t, 'bob')
      t.match(await statusOf(watcher, 'bob'), { type: 'user_status_change', online: true, timestamp: String })
      watcher.send({ type: 'get_online_users' })
      const list = await watcher.nextOfType('online_users_list')
      t.equal(list.count, 2)
      t.same((list.users as Array<{ user_id: string }>).map(user => user.user_id).sort(), ['bob', 'watcher'])

      bob.ws.close()
      t.match(await statusOf(watcher, 'bob'), { online: false })
      watcher.send({ type: 'get_online_users' })
      t.match(await watcher.nextOfType('online_users_list'), { count: 1, users: [{ user_id: 'watcher' }] })
    })

    t.test('a reconnect within the delay gives no offline/online pair', async t => {
      const start = await mode.start(t)
      const server = await start(t, { PRESENCE_OFFLINE_DELAY_MS: 1000 })
      const admin = await connect(server, t, 'root', ADMIN)
      await watchPresence(admin)
      const carol = await connect(server, t, 'carol')
      await statusOf(admin, 'carol')
      const dave = await connect(server, t, 'dave')
      await statusOf(admin, 'dave')

      carol.ws.close()
      await carol.closed
      await connect(server, t, 'carol')
      // dave leaves after carol came back: his offline, due a delay later, comes after any of carol's would.
      dave.ws.close()
      t.match(await statusOf(admin, 'dave'), { online: false })
      t.same(changesOf(admin, 'carol').map(change => change.online), [true], 'carol: only her first online')
      admin.send({ type: 'get_online_users' })
      const list = await admin.nextOfType('online_users_list')
      t.same((list.users as Array<{ user_id: string }>).map(user => user.user_id).sort(), ['carol', 'root'])
    })

    t.test('a storm of users comes in a few writes per admin socket, not one per user', async t => {
      const start = await mode.start(t)
      const server = await start(t, { WS_CONNECT_RATE_LIMIT: 0, MAX_PENDING_PER_IP: 1000 })
      const admin = await connect(server, t, 'root', ADMIN)
      await watchPresence(admin)
      // Reads from the admin's TCP socket: each is at most one write of the server's.
      let reads = 0
      const socket = (admin.ws as unknown as { _socket: NodeJS.EventEmitter })._socket
      socket.on('data', () => { reads++ })
      const USERS = 200
      await Promise.all(Array.from({ length: USERS }, async (_, i) => await Client.open(`${server.wsUrl}?token=${token(`storm-${i}`)}`, t)))
      for (let i = 0; i < USERS; i++) await statusOf(admin, `storm-${i}`)
      t.equal(admin.messages.filter(message => message.type === 'user_status_change').length, USERS, 'every user came online once')
      t.ok(reads <= USERS / 10, `${USERS} changes arrived in ${reads} reads`)
    })
  })
}
