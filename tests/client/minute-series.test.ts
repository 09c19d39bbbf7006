import t from 'tap'
import { MINUTE_MS, MinuteSeries } from '../../public/lib/minute-series.js'

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0)

t.test('counts the growth of the total per minute; the first total is only a baseline', async t => {
  const series = new MinuteSeries(3)
  series.record(100, T0)
  series.record(104, T0 + 10_000)
  series.record(110, T0 + MINUTE_MS + 5000)
  t.same(series.window(T0 + MINUTE_MS + 5000).map(point => point.count), [0, 4, 6])
  t.equal(series.window(T0 + MINUTE_MS).at(-1)?.start, T0 + MINUTE_MS, 'the last point is the current minute')
})

t.test('a smaller total (a restarted service) starts over without a negative count', async t => {
  const series = new MinuteSeries(2)
  series.record(50, T0)
  series.record(3, T0 + 1000)
  series.record(5, T0 + 2000)
  t.same(series.window(T0 + 2000).map(point => point.count), [0, 2])
})

t.test('minutes older than the window are dropped', async t => {
  const series = new MinuteSeries(2)
  series.record(0, T0)
  series.record(7, T0 + 1000)
  t.same(series.window(T0 + 5 * MINUTE_MS).map(point => point.count), [0, 0])
})

t.test('the service\'s series replaces the counts of the minutes it covers, and a later total counts from its baseline', async t => {
  const series = new MinuteSeries(3)
  series.record(0, T0 - MINUTE_MS)
  series.record(9, T0 - MINUTE_MS + 1000)
  t.ok(series.adopt({ minute_start: new Date(T0 - 2 * MINUTE_MS).toISOString(), events: [2, 0, 5], recognitions: [0, 0, 1] }, 40))
  t.same(series.window(T0).map(point => point.count), [2, 0, 5], 'minutes before the page saw anything, from the service')
  series.record(43, T0 + 1000)
  t.same(series.window(T0).map(point => point.count), [2, 0, 8], 'without a series the growth past the adopted total counts')
})

t.test('anything that is not a series is refused and changes nothing', async t => {
  const series = new MinuteSeries(2)
  for (const bad of [null, 'x', {}, { minute_start: 'soon', events: [1] }, { minute_start: new Date(T0).toISOString(), events: [1, -1] }, { minute_start: new Date(T0).toISOString(), events: ['1'] }]) {
    t.notOk(series.adopt(bad, 5), JSON.stringify(bad))
  }
  t.same(series.window(T0).map(point => point.count), [0, 0])
})
