import { minuteOf, type MinuteSeries } from '../../src/stats/sources/minute-series.js'

/** A snapshot's `series`, checked for its shape: 60 minutes, the newest the one in progress. */
export function seriesIn (data: Record<string, unknown>): MinuteSeries {
  const series = data.series as MinuteSeries
  if (series === undefined || series.events.length !== 60 || series.recognitions.length !== 60) throw new Error(`no 60-minute series in ${JSON.stringify(data)}`)
  return series
}

/** What the series counts in the minutes from `from`'s to `to`'s (ms): where events published between them land. */
export function countedBetween (series: MinuteSeries, from: number, to: number, of: 'events' | 'recognitions' = 'events'): number {
  const first = minuteOf(Date.parse(series.minute_start))
  let sum = 0
  for (let minute = minuteOf(from); minute <= minuteOf(to); minute++) sum += series[of][minute - first] ?? 0
  return sum
}

/** The series summed over the minutes of the UTC day of `at`: the chart's share of `events_today`. */
export function todaysSum (series: MinuteSeries, at: number): number {
  const midnight = minuteOf(Date.parse(new Date(at).toISOString().slice(0, 10)))
  const first = minuteOf(Date.parse(series.minute_start))
  return series.events.reduce((sum, count, i) => first + i >= midnight ? sum + count : sum, 0)
}

export const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)
