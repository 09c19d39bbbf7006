import t from 'tap'
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { token } from '../helper.js'
import { Channels } from '../../src/backplane/redis/keys.js'
import { eventually, NEEDS_REDIS, RedisServer, spawnInstance, type ChildInstance } from '../redis.js'
import { serveUpstream, type UpstreamMode } from '../stats-upstream.js'

const WARNING = 'upstream statistics unavailable; serving the last good value as stale'
const RECOVERED = 'upstream statistics recovered'

function count (output: string, msg: string): number {
  return output.split('\n').filter(line => line.includes(`"msg":"${msg}"`)).length
}

async function statistics (instance: ChildInstance): Promise<Record<string, unknown>> {
  const response = await fetch(`${instance.url}/api/statistics`, { headers: { authorization: `Bearer ${token('alice')}` } })
  if (response.status !== 200) throw new Error(`GET /api/statistics answered ${response.status}`)
  return (await response.json() as { data: Record<string, unknown> }).data
}

async function healthy (instance: ChildInstance): Promise<boolean> {
  const response = await fetch(`${instance.url}/healthz`)
  return response.status === 200
}

// The whole service in its own process: a crash of the collector would kill it.
for (const mode of ['deep', 'huge', 'huge-chunked', 'endless', 'garbage'] as const) {
  t.test(`an upstream answering ${mode} from the start leaves the service running, stale, logged once per outage`, async t => {
    let current: UpstreamMode = mode
    let requests = 0
    const upstream = createServer((_req, res) => { requests++; serveUpstream(current, res) })
    upstream.listen(0, '127.0.0.1')
    await once(upstream, 'listening')
    t.teardown(() => { upstream.closeAllConnections(); upstream.close() })

    const instance = await spawnInstance(t, {
      STATS_UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/stats?key=s3cret`,
      STATS_INTERVAL_MS: '100',
      STATS_UPSTREAM_TIMEOUT_MS: '300',
      STATS_UPSTREAM_MAX_BYTES: String(1024 * 1024)
    })
    // Several runs of the collector against the hostile upstream.
    await eventually(async () => requests >= 4, 'four upstream requests')
    t.ok(await healthy(instance), '/healthz answers')
    t.equal(instance.child.exitCode, null, 'the process is still running')
    t.match(await statistics(instance), { upstream: null, upstream_stale: true })
    t.equal(count(instance.output(), WARNING), 1, 'the outage is logged once')
    t.notMatch(instance.output(), 's3cret', 'the upstream query is not logged')

    current = 'good'
    await eventually(async () => (await statistics(instance)).upstream_stale === false, 'the upstream recovered')
    t.match(await statistics(instance), { upstream: { visitors: 7 }, upstream_stale: false })
    await eventually(async () => count(instance.output(), RECOVERED) === 1, 'the recovery logged')

    // A second outage is logged again, once.
    current = mode
    const before = requests
    await eventually(async () => requests >= before + 3, 'three more upstream requests')
    t.ok(await healthy(instance), '/healthz still answers')
    t.match(await statistics(instance), { upstream: { visitors: 7 }, upstream_stale: true })
    t.equal(count(instance.output(), WARNING), 2, 'one warning per outage')
  })
}

t.test('an unreadable or too deep snapshot on the Redis statistics channel is skipped; the instance keeps serving', { skip: NEEDS_REDIS }, async t => {
  const redis = await RedisServer.start(t)
  const instance = await spawnInstance(t, { REDIS_URL: redis.url, STATS_INTERVAL_MS: '100' })
  const admin = redis.client(t)
  await admin.publish(Channels.statistics, 'not json')
  await admin.publish(Channels.statistics, JSON.stringify({ timestamp: new Date().toISOString(), data: {} }).replace('{}', `{"deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}`))
  // The instance goes on taking snapshots from the channel after the bad ones.
  await eventually(async () => instance.output().includes('statistics snapshot could not be encoded'), 'the deep snapshot skipped')
  await eventually(async () => (await statistics(instance)).stale === false, 'a good snapshot')
  t.ok(await healthy(instance), '/healthz answers')
  t.equal(instance.child.exitCode, null, 'the process is still running')
  t.match(instance.output(), 'unreadable statistics snapshot from Redis')
})
