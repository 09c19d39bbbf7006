import t from 'tap'
import { MemoryBackplane, type MemoryBackplaneOptions } from '../../src/backplane/memory-backplane.js'
import type { Draft } from '../../src/bus/bus.js'
import { MemoryBus } from '../../src/bus/memory-bus.js'
import type { SequencedMessage } from '../../src/protocol/messages.js'
import type { Snapshot } from '../../src/stats/collector.js'
import { testConfig, waitFor, type Test } from '../helper.js'
import { backplaneContract } from './contract.js'

t.test('the in-memory backplane keeps the backplane contract', async t => {
  await backplaneContract(t, async (_t, overrides) => testConfig({ ...overrides, REDIS_URL: null }))
})

class RecordingLogger {
  readonly errors: Array<{ obj: Record<string, unknown>, msg: string }> = []
  error (obj: object, msg: string): void { this.errors.push({ obj: obj as Record<string, unknown>, msg }) }
}

function make (t: Test, options: Partial<MemoryBackplaneOptions> = {}): MemoryBackplane {
  const backplane = new MemoryBackplane({
    idempotencyWindowMs: 0,
    maxConnectionsPerUser: 5,
    historySize: 100,
    historyWindowMs: 60_000,
    statisticsIntervalMs: 1,
    logger: new RecordingLogger(),
    ...options
  })
  t.teardown(async () => { await backplane.close() })
  return backplane
}

const event = (camera = 'cam_1'): Draft =>
  ({ type: 'camera_event', timestamp: '2026-01-01T00:00:00.000Z', camera_id: camera, event_type: 'motion', data: {} })
const alert: Draft = { type: 'alert', timestamp: '2026-01-01T00:00:00.000Z', level: 'info', message: 'm', data: {} }
const snapshot = (data: Record<string, unknown>): Snapshot => ({ timestamp: new Date().toISOString(), data })

t.test('each published camera event is counted once, in the publishing call', async t => {
  const backplane = make(t)
  await backplane.bus.publish(event('cam_1'))
  await backplane.bus.publish(event('cam_2'))
  await backplane.bus.publish(alert)
  t.match(await backplane.eventStatistics().collect(), { events_total: 2, active_cameras: 2 })
})

t.test('every published message is in the history for resume', async t => {
  const backplane = make(t)
  await backplane.bus.publish(event())
  await backplane.bus.publish(alert)
  const since = await backplane.history.since(0)
  t.same(since?.map(m => [m.seq, m.type]), [[1, 'camera_event'], [2, 'alert']])
})

t.test('a bus of the caller\'s own is used, counted and recorded', async t => {
  const bus = new MemoryBus()
  const backplane = make(t, { bus })
  t.equal(backplane.bus, bus)
  await bus.publish(event())
  t.match(await backplane.eventStatistics().collect(), { events_total: 1 })
  t.equal((await backplane.history.since(0))?.length, 1)
})

t.test('a history that cannot record is logged with the seq; the publish and its delivery still succeed', async t => {
  const logger = new RecordingLogger()
  const history = { append: async () => { throw new Error('disk full') }, since: async () => [] }
  const backplane = make(t, { logger, history })
  const delivered: SequencedMessage[] = []
  backplane.bus.onMessage(message => { delivered.push(message) })
  t.same(await backplane.bus.publish(event()), { seq: 1, replayed: false })
  t.equal(delivered.length, 1)
  await waitFor(() => logger.errors.length > 0, 'the failure to be logged')
  t.match(logger.errors[0], { obj: { seq: 1, err: { message: 'disk full' } }, msg: /could not record a message for resume/ })
})

t.test('a history that throws synchronously is logged the same way', async t => {
  const logger = new RecordingLogger()
  const history = { append: () => { throw new Error('broken') }, since: async () => [] }
  const backplane = make(t, { logger, history })
  t.same(await backplane.bus.publish(event()), { seq: 1, replayed: false })
  await waitFor(() => logger.errors.length > 0, 'the failure to be logged')
  t.match(logger.errors[0].obj, { err: { message: 'broken' } })
})

t.test('one process always leads the statistics, and is always up', async t => {
  const backplane = make(t)
  const share = await backplane.shareStatistics(async () => snapshot({}), () => {})
  t.equal(share.leading, true)
  t.equal(backplane.health.up, true)
  await share.stop()
})

t.test('a failed gathering is logged and the next interval tries again', async t => {
  const logger = new RecordingLogger()
  const backplane = make(t, { logger })
  let runs = 0
  const received: Snapshot[] = []
  const share = await backplane.shareStatistics(async () => {
    if (++runs === 1) throw new Error('source down')
    return snapshot({ runs })
  }, s => { received.push(s) })
  t.teardown(async () => { await share.stop() })
  await waitFor(() => received.length > 0, 'a snapshot after the failure')
  t.match(received[0].data, { runs: 2 })
  t.match(logger.errors[0], { obj: { err: { message: 'source down' } }, msg: /statistics run failed/ })
})

t.test('gatherings never overlap: the next is scheduled when the last ends', async t => {
  const backplane = make(t)
  let running = 0
  let most = 0
  let runs = 0
  const share = await backplane.shareStatistics(async () => {
    running++
    most = Math.max(most, running)
    await new Promise(resolve => setTimeout(resolve, 5))
    running--
    return snapshot({ runs: ++runs })
  }, () => {})
  t.teardown(async () => { await share.stop() })
  await waitFor(() => runs >= 5, 'five gatherings')
  t.equal(most, 1)
})

t.test('stop waits for the gathering under way, and its snapshot is not received', async t => {
  const backplane = make(t)
  let finish!: () => void
  let started = false
  const received: Snapshot[] = []
  const share = await backplane.shareStatistics(async () => {
    started = true
    await new Promise<void>(resolve => { finish = resolve })
    return snapshot({})
  }, s => { received.push(s) })
  await waitFor(() => started, 'the first gathering')
  let stopped = false
  const stopping = share.stop().then(() => { stopped = true })
  await Promise.resolve()
  t.notOk(stopped, 'stop waits while the gathering runs')
  finish()
  await stopping
  t.equal(received.length, 0)
})

t.test('close waits for the gathering under way and stops every delivery', async t => {
  const backplane = make(t)
  let finish!: () => void
  let started = false
  const received: Snapshot[] = []
  await backplane.shareStatistics(async () => {
    started = true
    await new Promise<void>(resolve => { finish = resolve })
    return snapshot({})
  }, s => { received.push(s) })
  await waitFor(() => started, 'the first gathering')
  let delivered = 0
  backplane.bus.onMessage(() => { delivered++ })
  let closed = false
  const closing = backplane.close().then(() => { closed = true })
  await Promise.resolve()
  t.notOk(closed, 'close waits while the gathering runs')
  finish()
  await closing
  t.equal(received.length, 0, 'its snapshot is not received')
  await backplane.bus.publish(event())
  t.equal(delivered, 0, 'the bus is closed')
  t.match(await backplane.eventStatistics().collect(), { events_total: 0 }, 'nothing is counted after close')
})

t.test('every backplane has an id of its own', async t => {
  t.not(make(t).id, make(t).id)
})
