import t from 'tap'
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { StatisticsCollector, type Snapshot } from '../../src/stats/collector.js'
import { EventStatistics } from '../../src/stats/sources/events.js'
import { UpstreamStatistics } from '../../src/stats/sources/upstream.js'
import { jsonDepth } from '../../src/stats/sources/json-limits.js'
import { waitFor, type Test } from '../helper.js'
import { serveUpstream, type UpstreamMode } from '../stats-upstream.js'

class RecordingLogger {
  readonly warnings: string[] = []
  readonly infos: string[] = []
  warn (_obj: object, msg: string): void { this.warnings.push(msg) }
  info (_obj: object, msg: string): void { this.infos.push(msg) }
}

t.test('merges sources and keeps a failing source\'s last values, warning once per outage', async t => {
  const logger = new RecordingLogger()
  let fail = false
  const changes: Snapshot[] = []
  const collector = new StatisticsCollector({
    intervalMs: 60_000,
    logger,
    onChange: snapshot => changes.push(snapshot),
    sources: [
      { name: 'fixed', collect: () => ({ a: 1 }) },
      { name: 'flaky', collect: async () => { if (fail) throw new Error('down'); return { b: 2 } } }
    ]
  })
  collector.start()
  t.teardown(() => collector.stop())
  t.same((await collector.collect()).data, { a: 1, b: 2 })
  fail = true
  t.same((await collector.collect()).data, { a: 1, b: 2 }, 'the last good values stay')
  await collector.collect()
  t.equal(logger.warnings.length, 1, 'one warning for the whole outage')
  fail = false
  await collector.collect()
  t.same(logger.infos, ['statistics source recovered'])
  t.equal(changes.length, 1, 'unchanged data is not pushed again')
})

t.test('concurrent collects share one run; runs never overlap', async t => {
  let running = 0
  let maxRunning = 0
  let calls = 0
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const collector = new StatisticsCollector({
    intervalMs: 60_000,
    logger: new RecordingLogger(),
    onChange: () => {},
    sources: [{ name: 'slow', collect: async () => { calls++; running++; maxRunning = Math.max(maxRunning, running); await gate; running--; return { n: calls } } }]
  })
  const first = collector.collect()
  const second = collector.collect()
  release()
  t.equal(await first, await second)
  t.equal(calls, 1)
  t.equal(maxRunning, 1)
})

t.test('event statistics count per UTC day and forget idle cameras', async t => {
  let clock = Date.parse('2026-03-01T23:59:00Z')
  const stats = new EventStatistics(() => clock)
  const event = (camera: string, type: string, data: Record<string, unknown> = {}) =>
    ({ type: 'camera_event' as const, timestamp: new Date(clock).toISOString(), seq: 1, camera_id: camera, event_type: type, data })
  stats.record(event('cam_1', 'face_recognized', { person_name: 'Ada' }))
  stats.record(event('cam_2', 'motion'))
  t.match(stats.collect(), { events_total: 2, events_today: 2, recognitions_today: 1, active_cameras: 2, last_recognition: { person_name: 'Ada', camera_id: 'cam_1' } })
  clock += 2 * 60_000 // past midnight UTC
  stats.record(event('cam_2', 'motion'))
  t.match(stats.collect(), { events_total: 3, events_today: 1, recognitions_today: 0, active_cameras: 2, events_by_type: { face_recognized: 1, motion: 2 } })
  clock += 4 * 60_000 // cam_1 silent for 6 minutes, cam_2 for 4
  t.equal(stats.collect().active_cameras, 1)
})

t.test('upstream statistics are fetched, kept when the upstream fails, and marked stale', async t => {
  let healthy = true
  let requests = 0
  const upstream = createServer((_req, res) => {
    requests++
    if (!healthy) { res.writeHead(502).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ visitors: 7 }))
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  t.teardown(() => upstream.close())
  const logger = new RecordingLogger()
  const source = new UpstreamStatistics(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/stats?key=s3cret`, { timeoutMs: 1000, maxBytes: 1024 * 1024 }, logger)
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
  healthy = false
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true })
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true })
  t.equal(logger.warnings.length, 1, 'the outage is logged once')
  healthy = true
  t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
  t.equal(logger.infos.length, 1, 'the recovery is logged once')
  t.equal(requests, 4)
})

t.test('an upstream that does not answer times out', async t => {
  const silent = createServer(() => {})
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => { silent.closeAllConnections(); silent.close() })
  const source = new UpstreamStatistics(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, { timeoutMs: 50, maxBytes: 1024 * 1024 }, new RecordingLogger())
  t.same(await source.collect(), { upstream: null, upstream_stale: true })
})

t.test('the upstream URL is logged without its query string', async t => {
  let logged = ''
  const logger = { warn: (obj: object) => { logged = JSON.stringify(obj) }, info: () => {} }
  const source = new UpstreamStatistics('http://127.0.0.1:1/stats?api_key=s3cret', { timeoutMs: 50, maxBytes: 1024 * 1024 }, logger)
  await source.collect()
  t.match(logged, 'http://127.0.0.1:1/stats')
  t.notMatch(logged, 's3cret')
})

/** One nested array per level: JSON.parse takes it, JSON.stringify overflows the stack on it. */
function deepArray (levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels)
}

function deepValue (levels: number): unknown {
  return JSON.parse(deepArray(levels))
}

t.test('a source whose values cannot be serialized fails alone, once per outage, and the loop keeps running', async t => {
  const logger = new RecordingLogger()
  let hostile = false
  let runs = 0
  const changes: Snapshot[] = []
  const collector = new StatisticsCollector({
    intervalMs: 1,
    logger,
    onChange: snapshot => changes.push(snapshot),
    sources: [
      { name: 'counter', collect: () => ({ runs: ++runs }) },
      { name: 'hostile', collect: () => ({ nested: hostile ? deepValue(20_000) : [1] }) }
    ]
  })
  t.same((await collector.collect()).data, { runs: 1, nested: [1] })
  hostile = true
  collector.start()
  t.teardown(() => collector.stop())
  // The loop goes on: the counter keeps counting while the hostile source fails.
  await waitFor(() => runs >= 5, 'five runs of the loop')
  const snapshot = await collector.collect()
  t.same(snapshot.data.nested, [1], 'the hostile source keeps its last good values')
  t.doesNotThrow(() => JSON.stringify(snapshot), 'the snapshot can be serialized')
  t.same(logger.warnings, ['statistics source failed; keeping its last values'], 'one warning for the whole outage')
  hostile = false
  await waitFor(() => logger.infos.length > 0, 'recovery')
  t.same(logger.infos, ['statistics source recovered'])
  t.ok(changes.length >= 5, 'changes kept being pushed')
})

t.test('a push that throws is logged once and never stops the loop', async t => {
  const logger = new RecordingLogger()
  let runs = 0
  let throwing = true
  let pushed = 0
  const collector = new StatisticsCollector({
    intervalMs: 1,
    logger,
    onChange: () => { if (throwing) throw new RangeError('Maximum call stack size exceeded'); pushed++ },
    sources: [{ name: 'counter', collect: () => ({ runs: ++runs }) }]
  })
  collector.start()
  t.teardown(() => collector.stop())
  await waitFor(() => runs >= 5, 'five runs of the loop')
  t.same(logger.warnings, ['statistics run failed; the collector keeps running'])
  throwing = false
  await waitFor(() => pushed > 0, 'a push after recovery')
  t.same(logger.infos, ['statistics run recovered'])
})

t.test('a source that throws synchronously never stops the loop', async t => {
  const logger = new RecordingLogger()
  let runs = 0
  const collector = new StatisticsCollector({
    intervalMs: 1,
    logger,
    onChange: () => {},
    sources: [{ name: 'broken', collect: () => { runs++; throw new Error('boom') } }]
  })
  collector.start()
  t.teardown(() => collector.stop())
  await waitFor(() => runs >= 5, 'five runs of the loop')
  t.equal(logger.warnings.length, 1)
})

/** A local upstream whose answer the test switches between hostile shapes. */
async function hostileUpstream (t: Test): Promise<{ url: string, mode: (m: UpstreamMode) => void, requests: () => number }> {
  let mode: UpstreamMode = 'good'
  let requests = 0
  const server = createServer((_req, res) => {
    requests++
    serveUpstream(mode, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats`, mode: m => { mode = m }, requests: () => requests }
}

const upstreamModes = ['deep', 'huge', 'huge-chunked', 'endless', 'garbage'] as const
for (const mode of upstreamModes) {
  t.test(`an upstream answering ${mode} is a failure of that source: stale, logged once, recovered`, async t => {
    const upstream = await hostileUpstream(t)
    const logger = new RecordingLogger()
    const source = new UpstreamStatistics(upstream.url, { timeoutMs: 300, maxBytes: 64 * 1024 }, logger)
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
    upstream.mode(mode)
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true }, 'the last good value, marked stale')
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: true })
    t.equal(logger.warnings.length, 1, 'the outage is logged once')
    upstream.mode('good')
    t.same(await source.collect(), { upstream: { visitors: 7 }, upstream_stale: false })
    t.equal(logger.infos.length, 1, 'the recovery is logged once')
  })
}

t.test('json depth is measured without recursion and ignores brackets in strings', async t => {
  t.equal(jsonDepth('{"a":"[[[[","b":[1,{"c":"\\"]"}]}'), 3)
  t.equal(jsonDepth(deepArray(100_000)), 100_000)
  t.equal(jsonDepth(deepArray(100_000), 32), 33, 'stops past the limit')
})
