import t from 'tap'
import { connect, startServer, waitFor } from '../helper.js'

/**
 * The `statistics_update` a new connection gets first counts the
 * connection itself: the snapshot it comes from was gathered before the
 * connection opened (they are gathered every STATS_INTERVAL_MS), so its
 * connection counts are brought up to date with this instance's own.
 */

async function firstCounts (client: Awaited<ReturnType<typeof connect>>): Promise<{ connections: unknown, users: unknown }> {
  const update = await client.nextOfType('statistics_update')
  const data = update.data as Record<string, unknown>
  return { connections: data.total_connections, users: data.total_users }
}

t.test('each new connection is counted in its first statistics_update', async t => {
  // One snapshot, at start-up, with nobody connected; no other during the test.
  const server = await startServer(t, { STATS_INTERVAL_MS: 3_600_000 })
  await waitFor(() => server.app.statisticsViews.latest !== null, 'the first snapshot')
  t.same(await firstCounts(await connect(server, t, 'alice')), { connections: 1, users: 1 }, 'the first connection counts itself')
  t.same(await firstCounts(await connect(server, t, 'alice')), { connections: 2, users: 1 }, 'a second one of the same user')
  const bob = await connect(server, t, 'bob')
  t.same(await firstCounts(bob), { connections: 3, users: 2 }, 'another user')
  bob.ws.close()
  await waitFor(() => server.app.hub.size === 2, 'bob gone')
  t.same(await firstCounts(await connect(server, t, 'carol')), { connections: 3, users: 2 }, 'one that left is not counted')
})

t.test('a connection with a camera scope (its own view) counts itself too', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 3_600_000 })
  await waitFor(() => server.app.statisticsViews.latest !== null, 'the first snapshot')
  const scoped = await connect(server, t, 'dana', { cameras: ['cam-1'] })
  t.same(await firstCounts(scoped), { connections: 1, users: 1 })
})

t.test('connections a snapshot already counted are not counted twice', async t => {
  // Snapshots every 100 ms: the counts of each new one replace the brought-up-to-date ones.
  const server = await startServer(t, { STATS_INTERVAL_MS: 100 })
  const gathered = (): unknown => server.app.statisticsViews.latest?.data.total_connections
  await connect(server, t, 'alice')
  await waitFor(() => gathered() === 1, 'a snapshot that counts alice')
  t.same(await firstCounts(await connect(server, t, 'bob')), { connections: 2, users: 2 })
  await waitFor(() => gathered() === 2, 'a snapshot that counts bob')
  t.same(await firstCounts(await connect(server, t, 'carol')), { connections: 3, users: 3 })
})
