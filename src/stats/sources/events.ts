import type { CameraScope } from '../../protocol/camera-scope.js'
import type { SequencedMessage } from '../../protocol/messages.js'
import type { StatisticsData } from '../collector.js'
import { ACTIVE_CAMERA_WINDOW_MS, MAX_TRACKED_CAMERAS, listCountedCameras, viewOf, type CameraCounts, type LastRecognition, type ScopedEventSource } from './camera-views.js'
import { MinuteCounts, seriesOf } from './minute-series.js'

export { ACTIVE_CAMERA_WINDOW_MS, type LastRecognition }

/** Distinct event types counted by name; the rest are summed under `other`. */
const MAX_EVENT_TYPES = 256

/** The UTC day of a time (ms), as `YYYY-MM-DD`: the day `events_today` counts. */
export function utcDay (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/**
 * Counters over the camera events seen on the bus. Memory is bounded: the
 * camera map is pruned to the active window, event types are capped, and
 * the per-camera counts (for scoped views) keep the MAX_TRACKED_CAMERAS
 * most recently seen cameras.
 */
export class EventStatistics implements ScopedEventSource {
  readonly name = 'events'
  #total = 0
  #today = 0
  #recognitionsToday = 0
  #day: string
  #lastRecognition: LastRecognition | null = null
  readonly #cameras = new Map<string, number>()
  readonly #byType = new Map<string, number>()
  /** Events and recognitions of the last 60 minutes (`series`), counted with `events_today`. */
  readonly #minutes = new MinuteCounts()
  /** Camera → its counts, ordered by last event (the oldest is forgotten first). */
  readonly #perCamera = new Map<string, CameraCounts>()
  readonly #maxCameras: number
  readonly #now: () => number

  constructor (now: () => number = Date.now, maxCameras = MAX_TRACKED_CAMERAS) {
    this.#now = now
    this.#maxCameras = maxCameras
    this.#day = utcDay(now())
  }

  record (message: SequencedMessage): void {
    if (message.type !== 'camera_event') return
    const at = this.#now()
    this.#rollDay(at)
    this.#total++
    this.#today++
    this.#cameras.delete(message.camera_id) // re-insert keeps the map ordered by last event
    this.#cameras.set(message.camera_id, at)
    const type = this.#byType.has(message.event_type) || this.#byType.size < MAX_EVENT_TYPES ? message.event_type : 'other'
    this.#byType.set(type, (this.#byType.get(type) ?? 0) + 1)
    const camera = this.#camera(message.camera_id, at)
    camera.total++
    camera.today++
    const recognition = message.event_type === 'face_recognized'
    this.#minutes.add(at, recognition)
    camera.minutes ??= new MinuteCounts()
    camera.minutes.add(at, recognition)
    camera.byType.set(type, (camera.byType.get(type) ?? 0) + 1)
    if (recognition) {
      this.#recognitionsToday++
      camera.recognitionsToday++
      const name = message.data.person_name
      this.#lastRecognition = {
        person_name: typeof name === 'string' ? name : null,
        camera_id: message.camera_id,
        timestamp: message.timestamp
      }
      camera.lastRecognition = { seq: message.seq, value: this.#lastRecognition }
    }
  }

  /** Each scope's view of the counts (the unscoped one is `collect()`'s). */
  async collectViews (scopes: readonly CameraScope[]): Promise<Map<string, StatisticsData>> {
    const at = this.#now()
    const day = utcDay(at)
    const views = new Map<string, StatisticsData>()
    for (const scope of scopes) views.set(scope.key, scope.all ? this.collect() : viewOf(this.#perCamera, scope, day, at))
    return views
  }

  /** A camera's counts, moved to the newest end; the oldest camera is forgotten past the cap. */
  #camera (id: string, at: number): CameraCounts {
    const day = utcDay(at)
    let counts = this.#perCamera.get(id)
    if (counts === undefined) {
      if (this.#perCamera.size >= this.#maxCameras) this.#perCamera.delete(this.#perCamera.keys().next().value as string)
      counts = { total: 0, day, today: 0, recognitionsToday: 0, byType: new Map(), lastRecognition: null, lastEventAt: at }
    } else {
      this.#perCamera.delete(id)
    }
    this.#perCamera.set(id, counts)
    counts.lastEventAt = at
    if (counts.day !== day) {
      counts.day = day
      counts.today = 0
      counts.recognitionsToday = 0
    }
    return counts
  }

  collect (): StatisticsData {
    const at = this.#now()
    this.#rollDay(at)
    // The map is ordered by last event, so expired cameras are at the front.
    for (const [camera, seen] of this.#cameras) {
      if (at - seen <= ACTIVE_CAMERA_WINDOW_MS) break
      this.#cameras.delete(camera)
    }
    return {
      events_total: this.#total,
      events_today: this.#today,
      recognitions_today: this.#recognitionsToday,
      last_recognition: this.#lastRecognition,
      active_cameras: this.#cameras.size,
      events_by_type: Object.fromEntries(this.#byType),
      series: seriesOf(at, minute => this.#minutes.get(minute)),
      cameras: listCountedCameras(this.#perCamera, utcDay(at))
    }
  }

  #rollDay (at: number): void {
    const day = utcDay(at)
    if (day === this.#day) return
    this.#day = day
    this.#today = 0
    this.#recognitionsToday = 0
  }
}
