import t, { type Test as TapTest } from 'tap'
import type { Config } from '../../src/config.js'
import { startServer, token, type Server } from '../helper.js'
import { NEEDS_REDIS, RedisServer, startInstance } from '../redis.js'

const MODES: Array<[string, false | string, (t: TapTest, overrides?: Partial<Config>) => Promise<Server>]> = [
  ['memory', false, async (t, overrides) => await startServer(t, overrides)],
  ['redis', NEEDS_REDIS, async (t, overrides) => await startInstance(t, await RedisServer.start(t), overrides)]
]

async function post (server: Server, path: string, cameras: string[] | undefined, body: Record<string, unknown>): Promise<Response> {
  return await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token('site-a-gateway', { roles: ['publisher'], ...(cameras === undefined ? {} : { cameras }) })}` },
    body: JSON.stringify(body)
  })
}

for (const [mode, skip, start] of MODES) {
  t.test(`${mode}: a publisher scoped to site-a/* publishes for site-a only`, { skip }, async t => {
    const server = await start(t)
    const scope = ['site-a/*']
    t.equal((await post(server, '/api/events', scope, { camera_id: 'site-a/cam1', event_type: 'motion' })).status, 202)

    const refused = await post(server, '/api/events', scope, { camera_id: 'site-b/cam1', event_type: 'motion' })
    t.equal(refused.status, 403)
    const body = await refused.json() as { code: string, message: string }
    t.equal(body.code, 'PUSH_FORBIDDEN_CAMERA')
    t.match(body.message, /camera "site-b\/cam1"/, 'the message names the camera')

    const alert = await post(server, '/api/alerts', scope, { level: 'warning', message: 'offline', camera_id: 'site-b/cam1' })
    t.equal(alert.status, 403, 'an alert for another camera too')
    t.equal((await post(server, '/api/alerts', scope, { level: 'warning', message: 'offline', camera_id: 'site-a/cam1' })).status, 202)
    t.equal((await post(server, '/api/alerts', scope, { level: 'info', message: 'no camera' })).status, 202, 'an alert without a camera as before')
    t.equal((await post(server, '/api/events', undefined, { camera_id: 'site-b/cam1', event_type: 'motion' })).status, 202, 'a publisher without the claim publishes for every camera')
  })
}

t.test('an alert camera_id is checked like an event\'s: 1 to 128 characters', async t => {
  const server = await startServer(t)
  const response = await post(server, '/api/alerts', undefined, { level: 'info', message: 'x', camera_id: '' })
  t.equal(response.status, 400)
})
