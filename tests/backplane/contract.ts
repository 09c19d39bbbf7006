import type { Test } from 'tap'
import type { Backplane, LocalCounts } from '../../src/backplane/backplane.js'
import { createBackplane } from '../../src/backplane/create-backplane.js'
import type { Draft } from '../../src/bus/bus.js'
import type { Config } from '../../src/config.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import type { Snapshot } from '../../src/stats/collector.js'
import { CameraScope } from '../../src/protocol/camera-scope.js'

/** Settings that make every backplane its own: REDIS_URL or none, and the test's own overrides. */
export type MakeConfig = (t: Test, overrides: Partial<Config>) => Promise<Config>

const silent = { warn () {}, info () {}, error () {} }

function event (i: number): Draft {
  return { type: 'camera_event', timestamp: new Date().toISOString(), camera_id: `cam-${i}`, event_type: 'motion_detected', data: { i } }
}

/** Waits until `condition` holds, asking again after each answer (Redis delivers asynchronously). */
async function until (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** This instance's own connections, as the hub would count them. */
function localCounts (slots: Map<string, string>): LocalCounts {
  const users = (): Record<string, number> => {
    const counts: Record<string, number> = Object.create(null)
    for (const user of slots.values()) counts[user] = (counts[user] ?? 0) + 1
    return counts
  }
  return {
    get size () { return slots.size },
    get userCount () { return Object.keys(users()).length },
    connectionsOf: (userId: string) => users()[userId] ?? 0,
    users
  }
}

/**
 * One set of assertions for every Backplane: what the routes and plugins
 * rely on, whichever backplane the factory chose.
 */
export async function backplaneContract (t: Test, makeConfig: MakeConfig): Promise<void> {
  async function make (t: Test, overrides: Partial<Config> = {}): Promise<Backplane> {
    const backplane = await createBackplane(await makeConfig(t, overrides), silent)
    t.teardown(async () => { await backplane.close() })
    await backplane.start()
    return backplane
  }

  await t.test('publish gives increasing seqs and delivers to every handler in seq order', async t => {
    const backplane = await make(t)
    const first: SequencedMessage[] = []
    const second: number[] = []
    backplane.bus.onMessage(message => { first.push(message) })
    backplane.bus.onMessage(message => { second.push(message.seq) })
    const seqs: number[] = []
    for (let i = 0; i < 5; i++) seqs.push((await backplane.bus.publish(event(i))).seq)
    t.same([...seqs].sort((a, b) => a - b), seqs, 'seqs increase')
    t.equal(new Set(seqs).size, 5, 'no seq twice')
    await until(() => first.length === 5 && second.length === 5, 'five deliveries to each handler')
    t.same(first.map(message => message.seq), seqs, 'delivered in seq order')
    t.same(second, seqs, 'every handler gets every message')
    t.match(first[2], { type: 'camera_event', camera_id: 'cam-2', data: { i: 2 } }, 'delivered as published')
    t.equal(typeof backplane.bus.stream, 'string', 'a stream names the sequence')
  })

  await t.test('a publish with a known idempotency key publishes nothing and answers the first seq', async t => {
    const backplane = await make(t, { IDEMPOTENCY_WINDOW_MS: 60_000 })
    const delivered: number[] = []
    backplane.bus.onMessage(message => { delivered.push(message.seq) })
    const once = await backplane.bus.publish(event(1), 'publisher:key-1')
    const again = await backplane.bus.publish(event(1), 'publisher:key-1')
    const other = await backplane.bus.publish(event(2), 'publisher:key-2')
    t.same(once, { seq: once.seq, replayed: false })
    t.same(again, { seq: once.seq, replayed: true }, 'the duplicate gets the first seq')
    t.ok(other.seq > once.seq, 'another key publishes')
    await until(() => delivered.length >= 2, 'two deliveries')
    t.same(delivered, [once.seq, other.seq], 'delivered once each')
  })

  await t.test('the history answers what was missed, and resync when it is no longer kept', async t => {
    const backplane = await make(t, { RESUME_HISTORY: 3 })
    t.same(await backplane.history.since(0), [], 'nothing published, nothing missed')
    const seqs: number[] = []
    for (let i = 0; i < 5; i++) seqs.push((await backplane.bus.publish(event(i))).seq)
    await until(async () => (await backplane.history.since(seqs[3]))?.length === 1, 'the history to hold the newest')
    t.same((await backplane.history.since(seqs[1]))?.map(message => message.seq), seqs.slice(2), 'the newest RESUME_HISTORY after last_seq')
    t.match((await backplane.history.since(seqs[3]))?.[0], { seq: seqs[4], camera_id: 'cam-4' })
    t.same(await backplane.history.since(seqs[4]), [], 'up to date')
    t.equal(await backplane.history.since(seqs[0]), null, 'beyond RESUME_HISTORY: resync')
  })

  await t.test('RESUME_HISTORY=0 disables resume', async t => {
    const backplane = await make(t, { RESUME_HISTORY: 0 })
    const seqs: number[] = []
    for (let i = 0; i < 2; i++) seqs.push((await backplane.bus.publish(event(i))).seq)
    await until(async () => (await backplane.history.since(seqs[1])) !== null, 'the second publish to count')
    t.equal(await backplane.history.since(seqs[0]), null, 'anything missed: resync')
    t.same(await backplane.history.since(seqs[1]), [], 'nothing missed: nothing to replay')
  })

  await t.test('messages older than RESUME_WINDOW_MS are not replayed', async t => {
    const backplane = await make(t, { RESUME_WINDOW_MS: 300 })
    const before = (await backplane.bus.publish(event(0))).seq
    const { seq } = await backplane.bus.publish(event(1))
    await until(async () => (await backplane.history.since(before))?.length === 1, 'the message in the history')
    t.match(await backplane.history.since(before), [{ seq }], 'within the window it is replayed')
    // Polled, not slept: the window passes on the backplane's own clock.
    await until(async () => await backplane.history.since(before) === null, 'the window to pass')
    t.same(await backplane.history.since(seq), [], 'a client that saw it has nothing to resync')
  })

  await t.test('slots: a user gets at most the limit, and a release frees one', async t => {
    const backplane = await make(t, { MAX_CONNECTIONS_PER_USER: 2 })
    t.equal(backplane.slots.limit, 2)
    t.same(await backplane.slots.acquire('ann', 'c1'), { ok: true })
    t.same(await backplane.slots.acquire('ann', 'c2'), { ok: true })
    t.same(await backplane.slots.acquire('ann', 'c3'), { ok: false, reason: 'connection_limit', limit: 2 }, 'the third is refused')
    t.same(await backplane.slots.acquire('bob', 'c4'), { ok: true }, 'another user has slots of their own')
    backplane.slots.release('ann', 'c1')
    backplane.slots.release('ann', 'c1')
    await until(async () => (await backplane.slots.acquire('ann', 'c3')).ok, 'the freed slot')
    t.same(await backplane.slots.acquire('ann', 'c5'), { ok: false, reason: 'connection_limit', limit: 2 }, 'released once, freed once')
  })

  await t.test('totals count the connections that hold slots', async t => {
    const backplane = await make(t)
    const held = new Map<string, string>()
    for (const [connection, user] of [['c1', 'ann'], ['c2', 'ann'], ['c3', 'bob']]) {
      t.same(await backplane.slots.acquire(user, connection), { ok: true })
      held.set(connection, user)
    }
    const totals = await backplane.totals(localCounts(held), 'ann', true)
    t.match(totals, { totalConnections: 3, totalUsers: 2, userConnections: 2 })
    t.same({ ...totals.users }, { ann: 2, bob: 1 }, 'per user, when asked for')
    t.ok(totals.stale !== true, 'not stale')
    t.equal((await backplane.totals(localCounts(held), 'bob', false)).users, undefined, 'no per-user map unless asked for')
  })

  await t.test('the statistics leader gathers and the snapshot reaches this instance', async t => {
    const backplane = await make(t, { STATS_INTERVAL_MS: 100 })
    let runs = 0
    const received: Snapshot[] = []
    const share = await backplane.shareStatistics(async () => ({ timestamp: new Date().toISOString(), data: { runs: ++runs } }), snapshot => { received.push(snapshot) })
    t.teardown(async () => { await share.stop() })
    await until(() => received.length >= 2, 'two snapshots')
    t.ok(share.leading, 'a lone instance leads')
    t.match(received[0], { timestamp: String, data: { runs: 1 } }, 'what the leader gathered')
    t.ok(received.every(snapshot => snapshot.data.stale !== true), 'not stale')
    await share.stop()
    const after = received.length
    t.ok(runs <= after + 1, 'stopping ends the gathering')
  })

  await t.test('event statistics per view: each scope counts only the cameras it admits', async t => {
    const backplane = await make(t)
    const drafts: Draft[] = [
      { type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'site-a/cam1', event_type: 'face_recognized', data: { person_name: 'Ann' } },
      { type: 'camera_event', timestamp: new Date().toISOString(), camera_id: 'site-b/cam1', event_type: 'face_recognized', data: { person_name: 'Bob' } },
      { type: 'alert', timestamp: new Date().toISOString(), level: 'info', message: 'not an event', data: {} }
    ]
    for (const draft of drafts) await backplane.bus.publish(draft)
    const siteA = CameraScope.of(['site-a/*'])
    const events = backplane.eventStatistics()
    await until(async () => (await events.collect()).events_total === 2, 'both events counted')
    const views = await events.collectViews([siteA, CameraScope.NONE])
    t.match(views.get(siteA.key), { events_total: 1, events_today: 1, recognitions_today: 1, active_cameras: 1, last_recognition: { person_name: 'Ann', camera_id: 'site-a/cam1' } })
    t.same(views.get(siteA.key)?.events_by_type, { face_recognized: 1 })
    t.match(views.get(CameraScope.NONE.key), { events_total: 0, last_recognition: null, active_cameras: 0 })
    t.match(await events.collect(), { events_total: 2, last_recognition: { person_name: 'Bob' } }, 'the unscoped counters are unchanged')
  })

  await t.test('start and close: the backplane is healthy, closes once, and another can start after it', async t => {
    const config = await makeConfig(t, {})
    const backplane = await createBackplane(config, silent)
    await backplane.start()
    t.ok(backplane.health.up, 'healthy')
    t.equal(typeof backplane.id, 'string')
    await backplane.close()
    const next = await createBackplane(config, silent)
    await next.start()
    t.ok((await next.bus.publish(event(1))).seq > 0, 'the next one publishes')
    await next.close()
  })
}
