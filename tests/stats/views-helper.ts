import { CameraScope } from '../../src/protocol/camera-scope.js'
import { connect, token, type Client, type Server, type Test } from '../helper.js'
import { RedisServer, startInstance } from '../redis.js'

/**
 * Gives the connections of one user a camera scope, as admission does once
 * the token's `cameras` claim is read. Tests of how a view follows its
 * members set the scope here, on the real members.
 */
export function scopeMembers (server: Server, userId: string, entries: string[]): number {
  let scoped = 0
  for (const member of server.app.hub.members()) {
    if (member.connection.userId !== userId) continue
    member.scope = CameraScope.of(entries)
    scoped++
  }
  return scoped
}

/** Whether the service reads the `cameras` claim itself (true once the scopes branch is merged). */
export function serviceReadsCameraClaim (server: Server): boolean {
  const result = server.app.verifyToken(token('probe', { cameras: ['site-a/*'] }))
  return result.ok && !result.principal.cameras.all
}

export async function getStatistics (server: Server, bearer: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}/api/statistics`, { headers: { authorization: `Bearer ${bearer}` } })
  if (response.status !== 200) throw new Error(`GET /api/statistics answered ${response.status}`)
  return (await response.json() as { data: Record<string, unknown> }).data
}

export async function nextStatistics (client: Client, predicate: (data: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const message = await client.next(m => m.type === 'statistics_update' && predicate(m.data as Record<string, unknown>))
  return message.data as Record<string, unknown>
}

/** Every person a client was ever told about in `last_recognition`. */
export function namesSeen (client: Client): unknown[] {
  return client.messages
    .filter(m => m.type === 'statistics_update')
    .map(m => (m.data as { last_recognition?: { person_name?: unknown } | null }).last_recognition?.person_name)
    .filter(name => name !== undefined && name !== null)
}

/** Events on two sites: site-a has Ann recognized, site-b (published last) Bob. */
export const SITE_EVENTS = [
  { camera_id: 'site-a/cam1', event_type: 'motion_detected', data: {} },
  { camera_id: 'site-a/cam2', event_type: 'face_recognized', data: { person_name: 'Ann' } },
  { camera_id: 'site-b/cam1', event_type: 'motion_detected', data: {} },
  { camera_id: 'site-b/cam1', event_type: 'face_recognized', data: { person_name: 'Bob' } }
]

/** What a site-a/* view must show of SITE_EVENTS. */
export const SITE_A_VIEW = {
  events_total: 2,
  events_today: 2,
  recognitions_today: 1,
  active_cameras: 2,
  events_by_type: { motion_detected: 1, face_recognized: 1 },
  last_recognition: { person_name: 'Ann', camera_id: 'site-a/cam2' }
}

/**
 * Two instances on one Redis and, on B, a guard whose token's `cameras`
 * claim admits `site-a/*` and an unscoped boss: the cluster-wide statistics
 * tests publish on A and read on B.
 */
export async function clusterWithGuard (t: Test): Promise<{ redis: RedisServer, a: Server, b: Server, guard: Client, boss: Client }> {
  const redis = await RedisServer.start(t)
  const a = await startInstance(t, redis, { STATS_INTERVAL_MS: 200, INSTANCE_LEASE_MS: 1000 })
  const b = await startInstance(t, redis, { STATS_INTERVAL_MS: 200, INSTANCE_LEASE_MS: 1000 })
  const guard = await connect(b, t, 'guard', { cameras: ['site-a/*'] })
  const boss = await connect(b, t, 'boss')
  return { redis, a, b, guard, boss }
}
