import type { CameraScope } from '../../protocol/camera-scope.js'
import type { StatisticsData } from '../collector.js'
import type { CameraActivity, ScopedEventSource } from './camera-views.js'

/** One row of `data.cameras` as snapshots carry it: with whether the camera went silent. */
export interface ListedCamera extends CameraActivity {
  /** No event for longer than CAMERA_STALE_MS when the snapshot was gathered. */
  stale: boolean
}

/**
 * Marks each listed camera `stale` (silent longer than `staleMs` at `at`)
 * and adds the threshold as `camera_stale_ms`. The flag is computed on the
 * service's clock, so a page whose clock is off still agrees with it; the
 * threshold lets the page re-evaluate between snapshots (from the
 * snapshot's own `timestamp`, not its clock). And because the flag is in
 * the data, a camera turning stale changes the snapshot, which is then
 * pushed even though snapshots are pushed only when they change.
 */
export function markStaleCameras (data: StatisticsData, at: number, staleMs: number): StatisticsData {
  if (!Array.isArray(data.cameras)) return { ...data, camera_stale_ms: staleMs }
  const cameras: ListedCamera[] = (data.cameras as CameraActivity[]).map(camera => {
    const last = Date.parse(camera.last_event_at)
    return { ...camera, stale: Number.isNaN(last) || at - last > staleMs }
  })
  return { ...data, camera_stale_ms: staleMs, cameras }
}

/**
 * The event source with stale cameras marked, in every view. It wraps
 * whichever source the backplane brings (memory or Redis), so both modes
 * mark alike, and with Redis the instance that gathers marks for everyone.
 */
export class StaleCameraMarks implements ScopedEventSource {
  readonly #source: ScopedEventSource
  readonly #staleMs: number
  readonly #now: () => number

  constructor (source: ScopedEventSource, staleMs: number, now: () => number = Date.now) {
    this.#source = source
    this.#staleMs = staleMs
    this.#now = now
  }

  get name (): string {
    return this.#source.name
  }

  async collect (): Promise<StatisticsData> {
    const data = await this.#source.collect()
    // The time after the read: a camera heard during a slow read is not stale.
    return markStaleCameras(data, this.#now(), this.#staleMs)
  }

  async collectViews (scopes: readonly CameraScope[]): Promise<Map<string, StatisticsData>> {
    const views = await this.#source.collectViews(scopes)
    const at = this.#now()
    for (const [key, data] of views) views.set(key, markStaleCameras(data, at, this.#staleMs))
    return views
  }
}
