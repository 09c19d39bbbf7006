import type { SequencedMessage } from '../../protocol/messages.js'
import type { StatisticsData, StatisticsSource } from '../collector.js'

/** A camera counts as active for this long after its last event. */
export const ACTIVE_CAMERA_WINDOW_MS = 5 * 60_000
/** Distinct event types counted by name; the rest are summed under `other`. */
const MAX_EVENT_TYPES = 256

export interface LastRecognition {
  person_name: string | null
  camera_id: string
  timestamp: string
}

/** The UTC day of a time (ms), as `YYYY-MM-DD`: the day `events_today` counts. */
export function utcDay (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/**
 * Counters over the camera events seen on the bus. Memory is bounded: the
 * camera map is pruned to the active window, and event types are capped.
 */
export class EventStatistics implements StatisticsSource {
  readonly name = 'events'
  #total = 0
  #today = 0
  #recognitionsToday = 0
  #day: string
  #lastRecognition: LastRecognition | null = null
  readonly #cameras = new Map<string, number>()
  readonly #byType = new Map<string, number>()
  readonly #now: () => number

  constructor (now: () => number = Date.now) {
    this.#now = now
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
    if (message.event_type === 'face_recognized') {
      this.#recognitionsToday++
      const name = message.data.person_name
      this.#lastRecognition = {
        person_name: typeof name === 'string' ? name : null,
        camera_id: message.camera_id,
        timestamp: message.timestamp
      }
    }
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
      events_by_type: Object.fromEntries(this.#byType)
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
