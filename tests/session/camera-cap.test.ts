import t from 'tap'
import { connect, startServer, type Client, type Server } from '../helper.js'

/** `count` camera ids no connection has used yet. */
let nextId = 0
function freshIds (count: number): string[] {
  return Array.from({ length: count }, () => `cam-${nextId++}`)
}

/** The camera ids the server holds for a client's connection. */
function camerasHeld (server: Server, client: Client): number {
  const connected = client.messages.find(m => m.type === 'connection_status' && m.status === 'connected') as { connection_id: string }
  const member = server.app.hub.get(connected.connection_id)
  if (member === undefined) throw new Error(`connection ${connected.connection_id} is not in the hub`)
  return member.subscription.cameraCount
}

t.test('a subscribe storm of new camera ids is capped per connection at MAX_CAMERA_IDS', async t => {
  const MAX = 200
  const server = await startServer(t, { MAX_CAMERA_IDS: MAX, MAX_CONNECTIONS_PER_USER: 5, WS_MESSAGE_RATE_LIMIT: 0 })
  const clients = await Promise.all(Array.from({ length: 5 }, async () => await connect(server, t, 'stormy')))
  // Every connection sends 30 subscribes of 50 new ids each: 1500 ids, far past the cap.
  for (let round = 0; round < 30; round++) {
    for (const client of clients) client.send({ type: 'subscribe', camera_ids: freshIds(50) })
  }
  for (const [i, client] of clients.entries()) {
    const answers: Array<Record<string, unknown>> = []
    for (let round = 0; round < 30; round++) answers.push(await client.next(m => m.type === 'subscribed' || m.type === 'error'))
    const accepted = answers.filter(m => m.type === 'subscribed')
    const refused = answers.filter(m => m.type === 'error')
    t.equal(accepted.length, MAX / 50, `connection ${i}: subscribes up to the cap are applied`)
    t.equal(refused.length, 30 - MAX / 50, `connection ${i}: every subscribe past the cap is refused`)
    t.match(refused[0], { code: 'too_many_cameras', message: /MAX_CAMERA_IDS=200/ })
    t.match(refused[0].message, /nothing was changed/)
    const last = accepted[accepted.length - 1]
    t.equal(last.camera_count, MAX)
    t.equal((last.camera_ids as string[]).length, MAX, 'the echoed list is bounded by the cap')
    t.equal(camerasHeld(server, client), MAX, 'the connection holds no more than the cap')
  }
})

t.test('a refused subscribe leaves the subscription unchanged, event types included', async t => {
  const server = await startServer(t, { MAX_CAMERA_IDS: 3 })
  const client = await connect(server, t)
  client.send({ type: 'unsubscribe', event_types: ['alert'] })
  await client.nextOfType('subscribed')
  client.send({ type: 'subscribe', camera_ids: ['a', 'b'] })
  t.match(await client.nextOfType('subscribed'), { camera_ids: ['a', 'b'], camera_count: 2 })
  client.send({ type: 'subscribe', event_types: ['alert'], camera_ids: ['c', 'd'] })
  const error = await client.nextOfType('error')
  t.equal(error.code, 'too_many_cameras')
  t.match(error.message, 'it would hold 4 camera ids, more than MAX_CAMERA_IDS=3')
  // Ids already held and repeated ids do not count twice.
  client.send({ type: 'subscribe', camera_ids: ['a', 'c', 'c'] })
  t.match(await client.nextOfType('subscribed'), { event_types: ['camera_event'], camera_ids: ['a', 'b', 'c'], camera_count: 3 })
  // Room is made by unsubscribing; null lifts the filter whatever the cap.
  client.send({ type: 'unsubscribe', camera_ids: ['a'] })
  t.match(await client.nextOfType('subscribed'), { camera_count: 2 })
  client.send({ type: 'subscribe', camera_ids: ['d'] })
  t.match(await client.nextOfType('subscribed'), { camera_ids: ['b', 'c', 'd'], camera_count: 3 })
  client.send({ type: 'subscribe', camera_ids: null })
  t.match(await client.nextOfType('subscribed'), { camera_ids: null, camera_count: 0 })
})
