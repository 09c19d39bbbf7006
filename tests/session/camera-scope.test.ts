import t, { type Test as TapTest } from 'tap'
import type { Config } from '../../src/config.js'
import { MAX_NAMED_CAMERAS } from '../../src/session/messages.js'
import { Client, connect, startServer, token, type Server } from '../helper.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

/** The same checks in memory and on a real redis-server: the scope must not depend on the backplane. */
const MODES: Array<[string, false | string, (t: TapTest, overrides?: Partial<Config>) => Promise<Server>]> = [
  ['memory', false, async (t, overrides) => await startServer(t, overrides)],
  ['redis', NEEDS_REDIS, async (t, overrides) => await startInstance(t, await RedisServer.start(t), overrides)]
]

const malformed: Array<[string, unknown]> = [
  ['not an array', 'site-a/*'],
  ['more than 256 entries', Array.from({ length: 257 }, (_, i) => `cam-${i}`)],
  ['an empty string', ['cam-1', '']],
  ['an entry over 128 characters', ['x'.repeat(129)]],
  ['a non-string entry', ['cam-1', 7]]
]

/** Publishes with a `cameras: ["*"]` publisher token (REQUIRE_CAMERA_SCOPE leaves a token without the claim no camera). */
async function publish (server: Server, cameraId: string): Promise<number> {
  const response = await fetch(`${server.url}/api/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'], cameras: ['*'] })}` },
    body: JSON.stringify({ camera_id: cameraId, event_type: 'motion' })
  })
  if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${await response.text()}`)
  return (await response.json() as { seq: number }).seq
}

for (const [mode, skip, start] of MODES) {
  t.test(`${mode}: malformed cameras claims are refused at the handshake with 4401 naming the claim`, { skip }, async t => {
    const server = await start(t)
    for (const [what, claim] of malformed) {
      const client = await Client.open(`${server.wsUrl}?token=${token('guard', { cameras: claim as string[] })}`, t)
      const { code, reason } = await client.closed
      t.equal(code, 4401, what)
      t.match(reason, /cameras claim/, `${what}: the reason names the claim`)
      t.ok(Buffer.byteLength(reason) <= 123, 'the reason fits a close frame')
    }
    const response = await fetch(`${server.url}/api/statistics`, { headers: { authorization: `Bearer ${token('guard', { cameras: [''] })}` } })
    t.equal(response.status, 401, 'over HTTP: 401')
    t.match((await response.json() as { message: string }).message, /cameras claim/)
  })

  t.test(`${mode}: subscribing to out-of-scope cameras subscribes the allowed ones and names the others in forbidden_camera`, { skip }, async t => {
    const server = await start(t)
    const guard = await connect(server, t, 'guard', { cameras: ['site-a/*', 'lobby-1'] })
    guard.send({ type: 'subscribe', camera_ids: ['site-a/cam1', 'site-b/cam1', 'lobby-1', 'lobby-2'] })
    const error = await guard.nextOfType('error')
    t.equal(error.code, 'forbidden_camera')
    t.match(error.message, /"site-b\/cam1", "lobby-2"/)
    t.notMatch(error.message, /site-a\/cam1/)
    const subscribed = await guard.nextOfType('subscribed')
    t.same(subscribed.camera_ids, ['site-a/cam1', 'lobby-1'], 'the effective subscription')
    await guard.roundTrip()
    t.equal(guard.ws.readyState, guard.ws.OPEN, 'the connection stays open')

    guard.send({ type: 'subscribe', camera_ids: Array.from({ length: 30 }, (_, i) => `site-c/${i}`) })
    const many = await guard.nextOfType('error')
    t.equal((many.message as string).match(/"site-c\//g)?.length, MAX_NAMED_CAMERAS, 'a bounded list of ids')
    t.match(many.message, /and 20 more/)

    const sentinel = await publish(server, 'lobby-1')
    await guard.next(m => m.seq === sentinel)
  })

  t.test(`${mode}: REQUIRE_CAMERA_SCOPE: a token without the claim sees no camera; a claim still works`, { skip }, async t => {
    const server = await start(t, { REQUIRE_CAMERA_SCOPE: true })
    const plain = await connect(server, t, 'old-dashboard')
    const scoped = await connect(server, t, 'guard', { cameras: ['*'] })
    await plain.roundTrip()
    await scoped.roundTrip()
    await publish(server, 'cam-1')
    const alert = await fetch(`${server.url}/api/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'], cameras: ['*'] })}` },
      body: JSON.stringify({ level: 'info', message: 'without a camera' })
    })
    const sentinel = (await alert.json() as { seq: number }).seq
    await plain.next(m => m.seq === sentinel)
    t.same(plain.messages.filter(m => m.type === 'camera_event'), [], 'no camera event without a claim')
    await scoped.next(m => m.seq === sentinel)
    t.equal(scoped.messages.filter(m => m.type === 'camera_event').length, 1, 'cameras: ["*"] sees every camera')

    plain.send({ type: 'subscribe', camera_ids: ['cam-1'] })
    t.equal((await plain.nextOfType('error')).code, 'forbidden_camera')

    const unscopedPublisher = await fetch(`${server.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('gateway', { roles: ['publisher'] })}` },
      body: JSON.stringify({ camera_id: 'cam-1', event_type: 'motion' })
    })
    t.equal(unscopedPublisher.status, 403, 'a publisher without the claim may publish for no camera either')
  })
}

t.test('an auth refresh keeps the connection\'s scope: another cameras claim is refused with invalid_token', async t => {
  const server = await startServer(t)
  const guard = await connect(server, t, 'guard', { cameras: ['site-a/*'] })
  guard.send({ type: 'auth', token: token('guard', { cameras: ['site-a/*', 'site-b/*'] }) })
  const refused = await guard.nextOfType('error')
  t.equal(refused.code, 'invalid_token')
  t.match(refused.message, /cameras claim differs.*reconnect to change cameras/)
  guard.send({ type: 'auth', token: token('guard', { cameras: ['x'.repeat(200)] }) })
  const malformedRefresh = await guard.nextOfType('error')
  t.equal(malformedRefresh.code, 'invalid_token')
  t.match(malformedRefresh.message, /cameras claim must be/)
  guard.send({ type: 'auth', token: token('guard', { cameras: ['site-a/*'] }) })
  t.equal((await guard.next(m => m.type === 'connection_status' && m.status === 'token_refreshed')).status, 'token_refreshed', 'the same scope is accepted')
})
