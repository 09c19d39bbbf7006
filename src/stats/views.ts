import { CameraScope } from '../protocol/camera-scope.js'
import type { Snapshot, StatisticsData } from './collector.js'
import { SnapshotFrames, type SnapshotFramesLogger } from './snapshot-frames.js'
import type { ScopedEventSource } from './sources/camera-views.js'

/** The most scoped views kept at once (distinct scopes of live connections and recent HTTP callers). */
export const MAX_VIEWS = 1000
/** The key of the view every scope past MAX_VIEWS shares: no camera's counts, so nothing leaks. */
const OVERFLOW = CameraScope.NONE

export interface ViewsOptions {
  events: ScopedEventSource
  /** Broadcasts a frame to the members whose scope key `forScope` accepts (every member when undefined). */
  push: (frame: Buffer, forScope: ((key: string) => boolean) | undefined) => void
  /** The scopes of the connections open now (read once per snapshot, never computed per connection). */
  scopes: () => Iterable<CameraScope>
  maxViews?: number
  logger: SnapshotFramesLogger
}

interface View {
  readonly scope: CameraScope
  readonly frames: SnapshotFrames
  /** The event counts last computed for it: kept when a computation fails. */
  events: StatisticsData
  /** Whether an HTTP caller asked for it since the last snapshot (it then lives one more interval). */
  touched: boolean
}

/**
 * Statistics per view: one snapshot per distinct camera scope, never per
 * connection. The unscoped view (`*`) is the service-wide snapshot the
 * backplane brings, pushed as one frame to everyone while no connection is
 * scoped, exactly as before views existed. Each scoped view is that
 * snapshot with the event counts replaced by what its scope admits
 * (connection counts and upstream data stay service-wide), computed for all
 * views together from one read of the per-camera counts and pushed, when it
 * changed, to the connections of that scope alone.
 */
export class StatisticsViews {
  readonly #options: ViewsOptions
  readonly #maxViews: number
  readonly #all: SnapshotFrames
  readonly #views = new Map<string, View>()
  /** Scope computations so far (each covers one view, however many connections share it). */
  computations = 0
  #base: Snapshot | null = null
  #refreshing: Promise<void> | null = null
  #again = false
  #overflowWarned = false
  #failing = false

  constructor (options: ViewsOptions) {
    this.#options = options
    this.#maxViews = options.maxViews ?? MAX_VIEWS
    this.#all = new SnapshotFrames(frame => { options.push(frame, this.#unscopedFilter()) }, options.logger)
  }

  /** Scoped views alive now. */
  get size (): number {
    return this.#views.size
  }

  /** The unscoped snapshot last offered; null before the first. */
  get latest (): Snapshot | null {
    return this.#all.latest
  }

  /**
   * Takes the service-wide snapshot: pushes it to unscoped connections at
   * once, then recomputes the scoped views. Never throws or rejects.
   */
  offer (base: Snapshot): void {
    this.#base = base
    this.#sync()
    this.#all.offer(base)
    this.#refresh()
  }

  /**
   * The frame a new connection of this scope gets now; null when its view
   * has none yet (it is created, and its first frame pushed when computed).
   */
  frameFor (scope: CameraScope): Buffer | null {
    if (scope.all) return this.#all.frame
    const view = this.#viewOf(scope)
    if (view.frames.frame === null) this.#refresh()
    return view.frames.frame
  }

  /** The snapshot of this scope's view (for GET /api/statistics), computed if it has none yet. */
  async snapshotFor (scope: CameraScope): Promise<Snapshot | null> {
    if (scope.all) return this.#all.latest
    const view = this.#viewOf(scope)
    view.touched = true
    if (view.frames.latest === null) await this.#refresh()
    return view.frames.latest
  }

  /** Unscoped connections get the service-wide frame: all of them while nobody is scoped (one frame, as always). */
  #unscopedFilter (): ((key: string) => boolean) | undefined {
    // #sync has just made a view for every scoped connection: none means nobody is scoped.
    if (this.#views.size === 0) return undefined
    return key => key === '*'
  }

  /** The view of a scope, made if missing; past the cap, the shared overflow view. */
  #viewOf (scope: CameraScope): View {
    let view = this.#views.get(scope.key)
    if (view !== undefined) return view
    if (this.#views.size >= this.#maxViews) {
      if (!this.#overflowWarned) this.#options.logger.warn({ maxViews: this.#maxViews }, 'too many distinct camera scopes; the newest ones get statistics without event counts until views free up')
      this.#overflowWarned = true
      scope = OVERFLOW
      view = this.#views.get(scope.key)
      if (view !== undefined) return view
    }
    view = this.#makeView(scope)
    this.#views.set(scope.key, view)
    return view
  }

  #makeView (scope: CameraScope): View {
    const key = scope.key
    // The overflow view goes to every scoped connection that has no view of its own.
    const forScope = scope === OVERFLOW
      ? (memberKey: string) => memberKey !== '*' && (memberKey === key || !this.#views.has(memberKey))
      : (memberKey: string) => memberKey === key
    const frames = new SnapshotFrames(frame => { this.#options.push(frame, forScope) }, this.#options.logger)
    return { scope, frames, events: {}, touched: false }
  }

  /** Keeps the views of the scopes open now (and of recent HTTP callers); drops the rest. */
  #sync (): void {
    const live = new Set<string>()
    for (const scope of this.#options.scopes()) {
      if (scope.all || live.has(scope.key)) continue
      live.add(this.#viewOf(scope).scope.key)
    }
    for (const [key, view] of this.#views) {
      if (live.has(key) || view.touched) view.touched = false
      else this.#views.delete(key)
    }
    if (this.#views.size < this.#maxViews) this.#overflowWarned = false
  }

  /** Recomputes every scoped view; one run at a time, a request during a run makes one more run after it. */
  #refresh (): Promise<void> {
    if (this.#refreshing !== null) {
      this.#again = true
      return this.#refreshing
    }
    // Never rejects: callers start it without waiting (a new view's first frame).
    this.#refreshing = this.#compute().catch((err: unknown) => {
      this.#options.logger.warn({ err: (err as Error).message }, 'scoped statistics could not be pushed; the next snapshot tries again')
    }).finally(() => {
      this.#refreshing = null
      if (this.#again) {
        this.#again = false
        void this.#refresh()
      }
    })
    return this.#refreshing
  }

  async #compute (): Promise<void> {
    const base = this.#base
    if (base === null || this.#views.size === 0) return
    const views = [...this.#views.values()]
    let counts: Map<string, StatisticsData> | null = null
    try {
      counts = await this.#options.events.collectViews(views.map(view => view.scope))
      this.computations += views.length
      if (this.#failing) this.#options.logger.info({}, 'scoped statistics recovered')
      this.#failing = false
    } catch (err) {
      // Redis unreachable: each view keeps its last counts; the base says `stale`. Logged once per outage.
      if (!this.#failing) this.#options.logger.warn({ err: (err as Error).message }, 'scoped statistics could not be computed; views keep their last counts')
      this.#failing = true
    }
    for (const view of views) {
      if (this.#views.get(view.scope.key) !== view) continue
      view.events = counts?.get(view.scope.key) ?? view.events
      view.frames.offer({ timestamp: base.timestamp, data: { ...base.data, ...view.events } })
    }
  }
}
