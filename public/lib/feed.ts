import type { AlertMessage, CameraEventMessage } from '../../src/protocol/messages.js'
import { formatTime, humanize } from './format.js'

/** The most entries the feed keeps; older ones are dropped. */
export const FEED_LIMIT = 100

function span (className: string, text: string): HTMLSpanElement {
  const node = document.createElement('span')
  node.className = className
  node.textContent = text
  return node
}

/**
 * The live feed: newest on top, at most FEED_LIMIT entries. Every value is
 * set as text, never as HTML: events come from publishers, not from us.
 */
export class Feed {
  readonly #list: HTMLOListElement
  readonly #empty: HTMLElement

  constructor (list: HTMLOListElement, empty: HTMLElement) {
    this.#list = list
    this.#empty = empty
  }

  addEvent (event: CameraEventMessage): void {
    const data = event.data ?? {}
    const person = typeof data.person_name === 'string' ? data.person_name : null
    const what = person === null ? humanize(event.event_type) : `${humanize(event.event_type)}: ${person}`
    const details = [event.camera_id]
    if (typeof data.confidence === 'number') details.push(`${Math.round(data.confidence * 100)}% confidence`)
    if (typeof data.label === 'string') details.push(data.label)
    this.#add(this.#item('camera_event', event.timestamp, [span('feed-what', what), span('feed-where', details.join(' · '))]))
  }

  addAlert (alert: AlertMessage): void {
    const what = span('feed-what', '')
    const tag = span('tag', alert.level)
    tag.dataset.level = alert.level
    what.append(tag, alert.message)
    const camera = typeof alert.data?.camera_id === 'string' ? alert.data.camera_id : 'alert'
    const item = this.#item('alert', alert.timestamp, [what, span('feed-where', camera)])
    item.dataset.level = alert.level
    this.#add(item)
  }

  /** A note that events were missed, so nobody reads the feed as complete. */
  addGap (from: number, to: number): void {
    const count = to - from + 1
    this.#add(this.#item('gap', new Date().toISOString(), [span('feed-what', `${count} event${count === 1 ? '' : 's'} missed while the connection was down (#${from}${count === 1 ? '' : `–#${to}`})`)]))
  }

  /**
   * A note that the service could not replay what was missed: the feed below
   * it is incomplete, and the cards were reloaded.
   */
  addResync (): void {
    this.#add(this.#item('gap', new Date().toISOString(), [span('feed-what', 'Some events were missed while the connection was down; the statistics were reloaded and the feed above continues from now')]))
  }

  /**
   * Starts the feed again under a note (the filter changed: what is below
   * the note comes from the service under the new filter, nothing is hidden).
   */
  restart (note: string): void {
    this.#list.replaceChildren()
    this.#add(this.#item('filter', new Date().toISOString(), [span('feed-what', note)]))
  }

  #item (kind: string, timestamp: string, parts: HTMLElement[]): HTMLLIElement {
    const item = document.createElement('li')
    item.className = 'feed-item'
    item.dataset.kind = kind
    const time = document.createElement('time')
    time.className = 'feed-time'
    time.dateTime = timestamp
    time.textContent = formatTime(timestamp)
    item.append(time, ...parts)
    // Each line is cut to the row's width: the whole text is the tooltip.
    item.title = parts.map(part => part.textContent).join(' · ')
    return item
  }

  #add (item: HTMLLIElement): void {
    this.#empty.hidden = true
    this.#list.prepend(item)
    while (this.#list.childElementCount > FEED_LIMIT) this.#list.lastElementChild?.remove()
  }
}
