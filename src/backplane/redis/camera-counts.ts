import type { Redis } from 'ioredis'
import type { CameraCounts } from '../../stats/sources/camera-views.js'
import { Keys } from './keys.js'
import { MinuteCounts, minuteOf, SERIES_MINUTES } from '../../stats/sources/minute-series.js'

/**
 * Reads the per-camera counts the publish script keeps (at most
 * MAX_TRACKED_CAMERAS cameras) in one round trip, for every scoped view of
 * one interval together.
 */
export async function readCameraCounts (client: Redis, day: string, at: number): Promise<Map<string, CameraCounts>> {
  const first = minuteOf(at) - SERIES_MINUTES + 1
  const multi = client.multi()
    .zrange(Keys.cameraIndex, 0, -1)
    .zrange(Keys.eventsCameras, 0, -1, 'WITHSCORES')
    .hgetall(Keys.cameraTotals)
    .hgetall(Keys.cameraDay(day))
    .hgetall(Keys.cameraDayRecognitions(day))
    .hgetall(Keys.cameraTypes)
    .hgetall(Keys.cameraLastRecognition)
  // Each minute of the series: camera → events, camera → recognitions.
  for (let minute = first; minute < first + SERIES_MINUTES; minute++) {
    multi.hgetall(Keys.cameraMinute(minute)).hgetall(Keys.cameraMinuteRecognitions(minute))
  }
  const replies = await multi.exec()
  if (replies === null) throw new Error('reading the per-camera counts was aborted')
  for (const [err] of replies) if (err !== null) throw err
  const values = replies.map(([, value]) => value)
  const [index, active, totals, today, recognitions, types, last] = values as [
    string[], string[], Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>
  ]
  // Every camera's last event time (the ones kept, MAX_TRACKED_CAMERAS at most), not only the active ones: the cameras list shows silent ones too.
  const lastEventAt = new Map<string, number>()
  for (let i = 0; i + 1 < active.length; i += 2) lastEventAt.set(active[i], Number(active[i + 1]))
  const cameras = new Map<string, CameraCounts>()
  for (const id of index) {
    cameras.set(id, {
      total: Number(totals[id] ?? 0),
      day,
      today: Number(today[id] ?? 0),
      recognitionsToday: Number(recognitions[id] ?? 0),
      byType: new Map(),
      lastRecognition: lastRecognitionOf(last[id]),
      lastEventAt: lastEventAt.get(id) ?? 0
    })
  }
  for (let i = 0; i < SERIES_MINUTES; i++) {
    const events = values[7 + 2 * i] as Record<string, string>
    const recognized = values[8 + 2 * i] as Record<string, string>
    const minuteAt = (first + i) * 60_000
    for (const [id, count] of Object.entries(events)) {
      const camera = cameras.get(id)
      if (camera === undefined) continue // forgotten: only the index's cameras count
      camera.minutes ??= new MinuteCounts()
      camera.minutes.addCounts(minuteAt, Number(count), Number(recognized[id] ?? 0))
    }
  }
  for (const [field, count] of Object.entries(types)) {
    const pair = parsePair(field)
    if (pair !== null) cameras.get(pair[0])?.byType.set(pair[1], Number(count))
  }
  return cameras
}

/** "<seq>|<JSON>" as the publish script writes it; anything else counts as none. */
function lastRecognitionOf (stored: string | undefined): CameraCounts['lastRecognition'] {
  if (stored === undefined) return null
  const bar = stored.indexOf('|')
  try {
    return { seq: Number(stored.slice(0, bar)), value: JSON.parse(stored.slice(bar + 1)) }
  } catch {
    return null
  }
}

/** A type field, JSON [camera, type]; anything else is skipped. */
function parsePair (field: string): [string, string] | null {
  try {
    const pair: unknown = JSON.parse(field)
    return Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string' ? [pair[0], pair[1]] : null
  } catch {
    return null
  }
}
