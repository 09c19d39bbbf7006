import t from 'tap'
import { CameraScope } from '../../src/protocol/camera-scope.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import { EventStatistics } from '../../src/stats/sources/events.js'
import { connect, publishEvent, startServer, token } from '../helper.js'
import { getStatistics, nextStatistics, scopeMembers } from './views-helper.js'
import { countedBetween, seriesIn, sum, todaysSum } from './series-helper.js'

/** Event statistics on a hand-driven clock. */
function statsAt (iso: string): { stats: EventStatistics, advance: (ms: number) => void, record: (camera: string, type?: string) => void } {
  let clock = Date.parse(iso)
  const stats = new EventStatistics(() => clock)
  return {
    stats,
    advance: ms => { clock += ms },
    record: (camera, type = 'motion_detected') => {
      stats.record({ type: 'camera_event', timestamp: new Date(clock).toISOString(), seq: 1, camera_id: camera, event_type: type, data: { person_name: 'Ann' } } as unknown as SequencedMessage)
    }
  }
}

t.test('the series counts each minute of the last 60, the minute in progress last', async t => {
  const { stats, advance, record } = statsAt('2026-03-01T12:00:30Z')
  record('cam1')
  record('cam1', 'face_recognized')
  let series = seriesIn(stats.collect())
  t.equal(series.minute_start, '2026-03-01T11:01:00.000Z', 'the oldest minute starts 59 minutes before the current one')
  t.same(series.events.slice(-1), [2])
  t.same(series.recognitions.slice(-1), [1])
  t.equal(sum(series.events), 2)
  advance(60_000)
  record('cam2')
  series = seriesIn(stats.collect())
  t.equal(series.minute_start, '2026-03-01T11:02:00.000Z')
  t.same(series.events.slice(-2), [2, 1], 'the window moved one minute on')
  advance(59 * 60_000)
  series = seriesIn(stats.collect())
  t.same(series.events.slice(0, 1), [1], '12:01 is now the oldest minute; 12:00 is gone')
  t.equal(sum(series.events), 1)
  advance(60 * 60_000)
  t.equal(sum(seriesIn(stats.collect()).events), 0, 'an hour of silence empties it')
})

t.test('cards and chart agree: over today\'s minutes the series never sums past events_today', async t => {
  const { stats, advance, record } = statsAt('2026-03-01T23:20:00Z')
  for (let step = 0; step < 90; step++) {
    for (let i = 0; i < step % 4; i++) record(`cam${i}`, i === 2 ? 'face_recognized' : 'motion_detected')
    const at = Date.parse('2026-03-01T23:20:00Z') + step * 60_000
    const data = stats.collect()
    const today = todaysSum(seriesIn(data), at)
    if (today > (data.events_today as number)) t.fail(`at ${new Date(at).toISOString()} the series sums ${today} for today, events_today is ${String(data.events_today)}`)
    advance(60_000)
  }
  const data = stats.collect()
  t.equal(todaysSum(seriesIn(data), Date.parse('2026-03-02T00:50:00Z')), data.events_today, 'an hour after midnight today\'s events are all in the window')
})

t.test('a scoped view carries the series of its cameras only', async t => {
  const { stats, record } = statsAt('2026-03-01T12:00:30Z')
  record('site-a/cam1')
  record('site-a/cam2', 'face_recognized')
  record('site-b/cam1', 'face_recognized')
  const siteA = CameraScope.of(['site-a/*'])
  const lobby = CameraScope.of(['lobby'])
  const views = await stats.collectViews([siteA, lobby, CameraScope.ALL])
  t.same(seriesIn(views.get(siteA.key) ?? {}).events.slice(-1), [2])
  t.same(seriesIn(views.get(siteA.key) ?? {}).recognitions.slice(-1), [1])
  t.equal(sum(seriesIn(views.get(lobby.key) ?? {}).events), 0)
  t.same(seriesIn(views.get('*') ?? {}).events.slice(-1), [3])
})

t.test('the real service: statistics_update and GET /api/statistics carry the series, per scope', async t => {
  const server = await startServer(t, { STATS_INTERVAL_MS: 100 })
  const boss = await connect(server, t, 'boss')
  const guard = await connect(server, t, 'guard')
  t.equal(scopeMembers(server, 'guard', ['site-a/*']), 1)
  const before = Date.now()
  for (const [camera, type] of [['site-a/cam1', 'motion_detected'], ['site-a/cam2', 'face_recognized'], ['site-b/cam1', 'motion_detected']]) {
    t.equal((await publishEvent(server, { camera_id: camera, event_type: type, data: { person_name: 'Ann' } })).status, 202)
  }
  const after = Date.now()
  const all = await nextStatistics(boss, data => data.events_total === 3)
  t.equal(countedBetween(seriesIn(all), before, after), 3, 'the events are in the minute(s) they were published in')
  t.equal(countedBetween(seriesIn(all), before, after, 'recognitions'), 1)
  t.ok(todaysSum(seriesIn(all), after) <= (all.events_today as number))
  const scoped = await nextStatistics(guard, data => data.events_total === 2)
  t.equal(countedBetween(seriesIn(scoped), before, after), 2, 'the guard\'s series counts site-a only')
  const polled = await getStatistics(server, token('boss'))
  t.equal(countedBetween(seriesIn(polled), before, after), 3, 'the polling endpoint carries it too')
})
