import type { StatisticsClient } from '../../src/client/index.js'
import {
  describeFilter, EVERYTHING, filterOfAnswer, filterSteps, formatSilence, isStale, readCameras, sameFilter, silentMs,
  type CameraRow, type CameraSnapshot, type FeedFilter
} from './cameras.js'
import { formatCount, formatTime } from './format.js'

/** What the panel needs of the feed: a fresh start when the filter changes. */
export interface RestartableFeed {
  restart (note: string): void
}

/** The service's refusals of a filter the panel sent. */
const FILTER_ERRORS = new Set(['forbidden_camera', 'too_many_cameras', 'too_many_event_types'])

/** How often stale marks and "silent for" are re-evaluated between snapshots. */
const TICK_MS = 1000

function byId<T extends HTMLElement> (id: string): T {
  const node = document.getElementById(id)
  if (node === null) throw new Error(`the page is missing #${id}`)
  return node as T
}

function span (className: string): HTMLSpanElement {
  const node = document.createElement('span')
  node.className = className
  return node
}

/**
 * The Cameras panel: each camera of `data.cameras` with its last event time
 * and today's count, busiest first, stale ones marked in words and by class.
 * Clicking a camera filters the feed to it through the protocol (`subscribe`
 * with `camera_ids`), never by hiding rows; "Alerts only" drops camera
 * events the same way, and the breakdown's event types go through
 * `camera_event_types` (`setEventType`). The filter outlives reconnects (the client re-sends
 * it) and token changes (`attach` applies it to the new client), and the
 * panel says when the service's `subscribed` answer confirms it.
 */
export class CamerasPanel {
  readonly #feed: RestartableFeed
  readonly #list = byId<HTMLUListElement>('camera-list')
  readonly #empty = byId('cameras-empty')
  readonly #all = byId<HTMLButtonElement>('cameras-all')
  readonly #alertsOnly = byId<HTMLButtonElement>('feed-alerts-only')
  readonly #status = byId('feed-filter')
  readonly #items = new Map<string, HTMLLIElement>()
  #client: StatisticsClient | null = null
  #snapshot: CameraSnapshot | null = null
  /** performance.now() when the snapshot arrived: the page's clock only measures time since. */
  #receivedAt = 0
  #filter: FeedFilter = EVERYTHING
  #confirmed = true
  #problem: string | null = null
  readonly #listeners: Array<(filter: FeedFilter) => void> = []

  constructor (feed: RestartableFeed) {
    this.#feed = feed
    this.#list.addEventListener('click', event => {
      const item = (event.target as Element).closest<HTMLElement>('.camera-item')
      const camera = item?.dataset.camera
      if (camera === undefined) return
      // Clicking the camera shown alone goes back to every camera.
      this.#setFilter({ ...this.#filter, camera: this.#filter.camera === camera ? null : camera })
    })
    this.#all.addEventListener('click', () => { this.#setFilter({ ...this.#filter, camera: null }) })
    this.#alertsOnly.addEventListener('click', () => { this.#setFilter({ ...this.#filter, alertsOnly: !this.#filter.alertsOnly }) })
    setInterval(() => { this.#render() }, TICK_MS)
    this.#render()
  }

  /** Shows the feed one camera event type only (combined with the camera filter), or every type with null. */
  setEventType (eventType: string | null): void {
    const rest: FeedFilter = { camera: this.#filter.camera, alertsOnly: this.#filter.alertsOnly }
    this.#setFilter(eventType === null ? rest : { ...rest, eventType })
  }

  /** Calls `listener` with the filter now and on every change (the breakdown marks the chosen type). */
  onChange (listener: (filter: FeedFilter) => void): void {
    this.#listeners.push(listener)
    listener(this.#filter)
  }

  /** Follows a (new) client: its statistics, and the page's filter applied to it. */
  attach (client: StatisticsClient): void {
    this.#client = client
    // A new client starts with every camera and type: it gets the page's filter (sent once it connects).
    this.#run(filterSteps(EVERYTHING, this.#filter))
    this.#confirmed = sameFilter(this.#filter, EVERYTHING)
    client.on('statistics_update', message => {
      if (this.#client === client) this.show(message.data, message.timestamp)
    })
    client.on('subscribed', answer => {
      if (this.#client !== client) return
      this.#confirmed = sameFilter(filterOfAnswer(answer), this.#filter)
      if (this.#confirmed) this.#problem = null
      this.#showFilter()
    })
    client.on('connection_status', status => {
      // A new connection has every camera until the client's re-sent filter is answered.
      if (this.#client !== client || status.status !== 'connected' || sameFilter(this.#filter, EVERYTHING)) return
      this.#confirmed = false
      this.#showFilter()
    })
    client.on('error', error => {
      if (this.#client !== client || !FILTER_ERRORS.has(error.code)) return
      this.#problem = error.message
      this.#showFilter()
    })
    this.#showFilter()
  }

  show (data: Record<string, unknown>, timestamp: string): void {
    this.#snapshot = readCameras(data, timestamp)
    this.#receivedAt = performance.now()
    this.#render()
  }

  #setFilter (next: FeedFilter): void {
    if (sameFilter(this.#filter, next)) return
    const steps = filterSteps(this.#filter, next)
    this.#filter = next
    this.#confirmed = false
    this.#problem = null
    this.#run(steps)
    // The rows already shown were the old filter's: the feed starts again, filtered by the service.
    this.#feed.restart(`Feed filter: ${describeFilter(next)}`)
    this.#showFilter()
    this.#render()
    for (const listener of this.#listeners) listener(next)
  }

  #run (steps: ReturnType<typeof filterSteps>): void {
    const client = this.#client
    if (client === null) return
    for (const step of steps) {
      if (step.method === 'subscribe') client.subscribe(step.eventTypes, step.cameraIds, step.cameraEventTypes)
      else client.unsubscribe(step.eventTypes, step.cameraIds ?? undefined, step.cameraEventTypes ?? undefined)
    }
  }

  #showFilter (): void {
    const filter = this.#filter
    this.#all.setAttribute('aria-pressed', String(filter.camera === null))
    this.#alertsOnly.setAttribute('aria-pressed', String(filter.alertsOnly))
    let text = `Feed: ${describeFilter(filter)}`
    if (this.#problem !== null) text += ` (the service refused: ${this.#problem})`
    else if (!this.#confirmed) text += ' (waiting for the service to confirm)'
    this.#status.textContent = text
    this.#status.dataset.confirmed = String(this.#confirmed)
  }

  #render (): void {
    const snapshot = this.#snapshot
    const rows = snapshot?.rows ?? []
    this.#empty.hidden = rows.length > 0
    if (snapshot === null) return
    const elapsed = performance.now() - this.#receivedAt
    const nodes = rows.map(row => this.#item(row, snapshot, elapsed))
    for (const [id, item] of this.#items) if (!nodes.includes(item)) this.#items.delete(id)
    // Reordered only when the order changed, so a focused button keeps its focus.
    const current = Array.from(this.#list.children)
    if (current.length !== nodes.length || nodes.some((node, i) => current[i] !== node)) this.#list.replaceChildren(...nodes)
  }

  #item (row: CameraRow, snapshot: CameraSnapshot, elapsed: number): HTMLLIElement {
    let item = this.#items.get(row.id)
    if (item === undefined) {
      item = document.createElement('li')
      item.className = 'camera-item'
      item.dataset.camera = row.id
      const button = document.createElement('button')
      button.type = 'button'
      button.className = 'camera-select'
      const id = span('camera-id')
      id.textContent = row.id
      const last = document.createElement('time')
      last.className = 'camera-last'
      button.append(id, span('camera-today'), last, span('camera-state'))
      item.append(button)
      this.#items.set(row.id, item)
    }
    const [, today, last, state] = item.firstElementChild!.children as unknown as [HTMLElement, HTMLElement, HTMLTimeElement, HTMLElement]
    const stale = isStale(row, snapshot, elapsed)
    item.classList.toggle('camera-stale', stale)
    item.dataset.stale = String(stale)
    const selected = this.#filter.camera === row.id
    item.classList.toggle('camera-selected', selected)
    item.firstElementChild!.setAttribute('aria-pressed', String(selected))
    setText(today, `${formatCount(row.eventsToday)} today`)
    const iso = new Date(row.lastEventAt).toISOString()
    if (last.dateTime !== iso) {
      last.dateTime = iso
      last.textContent = `last ${formatTime(row.lastEventAt)}`
    }
    setText(state, stale ? `Stale: silent ${formatSilence(silentMs(row, snapshot, elapsed))}` : 'Live')
    return item
  }
}

function setText (node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text
}
