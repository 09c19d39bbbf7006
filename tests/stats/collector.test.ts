import t from 'tap'
import { StatisticsCollector, type Snapshot } from '../../src/stats/collector.js'
import { jsonDepth } from '../../src/stats/sources/json-limits.js'
import { waitFor } from '../helper.js'

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

t.test('json depth is measured without recursion and ignores brackets in strings', async t => {
  t.equal(jsonDepth('{"a":"[[[[","b":[1,{"c":"\\"]"}]}'), 3)
  t.equal(jsonDepth(deepArray(100_000)), 100_000)
  t.equal(jsonDepth(deepArray(100_000), 32), 33, 'stops past the limit')
})
