import { humanize } from './format.js'

/**
 * The Cameras panel's logic, free of the DOM (tested in Node): reading
 * `data.cameras`, deciding which cameras are stale between snapshots, and
 * turning the operator's feed filter into `subscribe` / `unsubscribe`
 * messages and back from the service's `subscribed` answer.
 */

/** Rows shown at most: the service lists 50; a bigger list is cut, not trusted. */
export const MAX_CAMERA_ROWS = 50

export interface CameraRow {
  id: string
  /** Its last event, on the service's clock (ms). */
  lastEventAt: number
  eventsToday: number
  /** What the service said when it gathered the snapshot. */
  stale: boolean
}

export interface CameraSnapshot {
  rows: CameraRow[]
  /** The service's CAMERA_STALE_MS, or null when it did not say. */
  staleMs: number | null
  /** When the service gathered it (its clock, ms). */
  at: number
}

/** Reads a snapshot's `cameras` and `camera_stale_ms`; malformed rows are skipped. */
export function readCameras (data: Record<string, unknown>, timestamp: string): CameraSnapshot {
  const rows: CameraRow[] = []
  const list = Array.isArray(data.cameras) ? data.cameras : []
  for (const item of list.slice(0, MAX_CAMERA_ROWS) as unknown[]) {
    if (item === null || typeof item !== 'object') continue
    const row = item as Record<string, unknown>
    const lastEventAt = typeof row.last_event_at === 'string' ? Date.parse(row.last_event_at) : NaN
    if (typeof row.camera_id !== 'string' || Number.isNaN(lastEventAt)) continue
    rows.push({
      id: row.camera_id,
      lastEventAt,
      eventsToday: typeof row.events_today === 'number' ? row.events_today : 0,
      stale: row.stale === true
    })
  }
  const staleMs = typeof data.camera_stale_ms === 'number' && data.camera_stale_ms > 0 ? data.camera_stale_ms : null
  const at = Date.parse(timestamp)
  return { rows: sortByActivity(rows), staleMs, at: Number.isNaN(at) ? Math.max(0, ...rows.map(row => row.lastEventAt)) : at }
}

/**
 * Busiest first (today's events), then the most recently heard, then by
 * id: a steady order on a wall screen (a camera moves only when its count
 * passes another's), and a busy camera that went silent stays near the
 * top, where its silence shows.
 */
export function sortByActivity (rows: CameraRow[]): CameraRow[] {
  return [...rows].sort((a, b) => b.eventsToday - a.eventsToday || b.lastEventAt - a.lastEventAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * How long a camera has been silent, `elapsedMs` after the snapshot
 * arrived. Measured from the snapshot's own time plus the page's monotonic
 * clock, never from the page's wall clock, so a page whose clock is off
 * agrees with the service.
 */
export function silentMs (row: CameraRow, snapshot: CameraSnapshot, elapsedMs: number): number {
  return Math.max(0, snapshot.at + elapsedMs - row.lastEventAt)
}

/** Stale when the service said so, or when it has been silent past the threshold since. */
export function isStale (row: CameraRow, snapshot: CameraSnapshot, elapsedMs: number): boolean {
  return row.stale || (snapshot.staleMs !== null && silentMs(row, snapshot, elapsedMs) > snapshot.staleMs)
}

/** "45 s", "6 min", "2 h 5 min" */
export function formatSilence (ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`
}

// ---- the feed filter --------------------------------------------------------

/** What the operator asked the feed to show. */
export interface FeedFilter {
  /** One camera's events, or null for every camera. */
  camera: string | null
  /** Alerts without camera events. */
  alertsOnly: boolean
  /** One camera event type (`event_type`, from the breakdown); absent for every type. */
  eventType?: string
}

export const EVERYTHING: FeedFilter = { camera: null, alertsOnly: false }

/** One call on the statistics client. */
export interface FilterStep {
  method: 'subscribe' | 'unsubscribe'
  eventTypes: Array<'camera_event' | 'alert'>
  cameraIds?: string[] | null
  cameraEventTypes?: string[] | null
}

/**
 * The client calls that take a connection from one filter to another.
 * The service's `subscribe` only adds cameras, so switching cameras first
 * removes the old one (for a moment the feed gets no camera event, never
 * another camera's), then adds the new one; `null` lifts the filter. The
 * event type goes the same way, through `camera_event_types`.
 */
export function filterSteps (from: FeedFilter, to: FeedFilter): FilterStep[] {
  const steps: FilterStep[] = []
  if (from.camera !== to.camera) {
    if (to.camera === null) {
      steps.push({ method: 'subscribe', eventTypes: [], cameraIds: null })
    } else {
      if (from.camera !== null) steps.push({ method: 'unsubscribe', eventTypes: [], cameraIds: [from.camera] })
      steps.push({ method: 'subscribe', eventTypes: [], cameraIds: [to.camera] })
    }
  }
  if (from.eventType !== to.eventType) {
    if (to.eventType === undefined) {
      steps.push({ method: 'subscribe', eventTypes: [], cameraEventTypes: null })
    } else {
      if (from.eventType !== undefined) steps.push({ method: 'unsubscribe', eventTypes: [], cameraEventTypes: [from.eventType] })
      steps.push({ method: 'subscribe', eventTypes: [], cameraEventTypes: [to.eventType] })
    }
  }
  if (from.alertsOnly !== to.alertsOnly) {
    steps.push({ method: to.alertsOnly ? 'unsubscribe' : 'subscribe', eventTypes: ['camera_event'] })
  }
  return steps
}

/** The filter a `subscribed` answer says the connection has; null when no FeedFilter describes it. */
export function filterOfAnswer (answer: { event_types?: unknown, camera_ids?: unknown, camera_event_types?: unknown }): FeedFilter | null {
  const types = Array.isArray(answer.event_types) ? answer.event_types : []
  if (!types.includes('alert')) return null
  const cameras = answer.camera_ids
  let camera: string | null
  if (cameras === null) camera = null
  else if (Array.isArray(cameras) && cameras.length === 1 && typeof cameras[0] === 'string') camera = cameras[0]
  else return null
  const filter: FeedFilter = { camera, alertsOnly: !types.includes('camera_event') }
  // Absent (a service that does not know the field) is every type, as null is.
  const eventTypes = answer.camera_event_types
  if (Array.isArray(eventTypes)) {
    if (eventTypes.length !== 1 || typeof eventTypes[0] !== 'string') return null
    filter.eventType = eventTypes[0]
  } else if (eventTypes !== null && eventTypes !== undefined) return null
  return filter
}

export function sameFilter (a: FeedFilter | null, b: FeedFilter): boolean {
  return a !== null && a.camera === b.camera && a.alertsOnly === b.alertsOnly && a.eventType === b.eventType
}

/**
 * The filter in words: "Every camera · events and alerts", "lobby-1 only ·
 * alerts only", "Every camera · Motion detected events and alerts".
 */
export function describeFilter (filter: FeedFilter): string {
  const cameras = filter.camera === null ? 'Every camera' : `${filter.camera} only`
  const events = filter.eventType === undefined ? 'events' : `${humanize(filter.eventType)} events`
  if (!filter.alertsOnly) return `${cameras} · ${events} and alerts`
  return filter.eventType === undefined ? `${cameras} · alerts only` : `${cameras} · alerts only (${events} when shown)`
}
