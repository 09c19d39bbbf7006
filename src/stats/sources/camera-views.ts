import type { CameraScope } from '../../protocol/camera-scope.js'
import type { StatisticsData, StatisticsSource } from '../collector.js'
import { sumSeries, type MinuteCounts } from './minute-series.js'

/** A camera counts as active for this long after its last event. */
export const ACTIVE_CAMERA_WINDOW_MS = 5 * 60_000
/**
 * Cameras counted one by one for scoped views. Past it the camera whose
 * last event is oldest is forgotten (its counts leave the scoped views;
 * the unscoped view keeps its own service-wide counters), so memory, here
 * and in Redis, stays bounded whatever camera ids publishers invent.
 */
export const MAX_TRACKED_CAMERAS = 10_000

/**
 * Cameras listed in a snapshot's `cameras` (the dashboard's "Cameras"):
 * the most recently active ones first, so a snapshot stays small however
 * many cameras publish.
 */
export const MAX_LISTED_CAMERAS = 50

/** One row of `data.cameras`. */
export interface CameraActivity {
  camera_id: string
  /** Its last event (ISO). */
  last_event_at: string
  /** Its events of the current UTC day. */
  events_today: number
}

/**
 * The MAX_LISTED_CAMERAS cameras with the newest last event, newest first
 * (ties by id, so every instance lists them alike); cameras whose last
 * event is unknown (0) are left out.
 */
export function listCameras (cameras: Iterable<{ id: string, lastEventAt: number, today: number }>): CameraActivity[] {
  const known = [...cameras].filter(camera => camera.lastEventAt > 0)
  known.sort((a, b) => b.lastEventAt - a.lastEventAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return known.slice(0, MAX_LISTED_CAMERAS).map(camera => ({
    camera_id: camera.id,
    last_event_at: new Date(camera.lastEventAt).toISOString(),
    events_today: camera.today
  }))
}

/** The listed cameras of per-camera counts (today's count is 0 when its counts are of another day). */
export function listCountedCameras (cameras: Iterable<[string, CameraCounts]>, day: string, scope?: CameraScope): CameraActivity[] {
  const rows: Array<{ id: string, lastEventAt: number, today: number }> = []
  for (const [id, counts] of cameras) {
    if (scope !== undefined && !scope.admits(id)) continue
    rows.push({ id, lastEventAt: counts.lastEventAt, today: counts.day === day ? counts.today : 0 })
  }
  return listCameras(rows)
}

export interface LastRecognition {
  person_name: string | null
  camera_id: string
  timestamp: string
}

/** What is counted per camera, for the views of scoped holders. */
export interface CameraCounts {
  total: number
  /** Events and recognitions of `day` (a UTC day); they count as 0 on any other day. */
  day: string
  today: number
  recognitionsToday: number
  /** Event type → count (types capped service-wide, the rest under `other`). */
  byType: Map<string, number>
  /** The camera's newest recognition and its seq (the newest over a view wins). */
  lastRecognition: { seq: number, value: LastRecognition } | null
  /** When its last event arrived (ms); 0 when unknown. */
  lastEventAt: number
  /** Its events and recognitions per minute of the last 60 (the view's `series`); none yet when absent. */
  minutes?: MinuteCounts
}

/**
 * The event source of the statistics: `collect()` is the unscoped view
 * (every camera, as always); `collectViews` answers many scopes from one
 * read of the per-camera counts, so a few views cost a few sums, not a
 * read each.
 */
export interface ScopedEventSource extends StatisticsSource {
  collectViews (scopes: readonly CameraScope[]): Promise<Map<string, StatisticsData>>
}

/** The event statistics a scope admits, summed over its cameras. */
export function viewOf (cameras: Iterable<[string, CameraCounts]>, scope: CameraScope, day: string, at: number): StatisticsData {
  let total = 0
  let today = 0
  let recognitions = 0
  let active = 0
  let last: CameraCounts['lastRecognition'] = null
  // Event types are publishers' strings: "__proto__" must stay a key.
  const byType: Record<string, number> = Object.create(null)
  const minutes: MinuteCounts[] = []
  for (const [camera, counts] of cameras) {
    if (!scope.admits(camera)) continue
    if (counts.minutes !== undefined) minutes.push(counts.minutes)
    total += counts.total
    if (counts.day === day) {
      today += counts.today
      recognitions += counts.recognitionsToday
    }
    if (at - counts.lastEventAt <= ACTIVE_CAMERA_WINDOW_MS) active++
    for (const [type, count] of counts.byType) byType[type] = (byType[type] ?? 0) + count
    if (counts.lastRecognition !== null && (last === null || counts.lastRecognition.seq > last.seq)) last = counts.lastRecognition
  }
  return {
    events_total: total,
    events_today: today,
    recognitions_today: recognitions,
    last_recognition: last?.value ?? null,
    active_cameras: active,
    events_by_type: byType,
    series: sumSeries(at, minutes),
    cameras: listCountedCameras(cameras, day, scope)
  }
}
