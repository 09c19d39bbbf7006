import type { SubscribableType } from '../protocol/messages.js'
import { SeqTracker, type SeqGap } from './seq-tracker.js'
import type { AnyMessage, ResyncInfo } from './types.js'

/**
 * What the page subscribed to, and where its stream of camera events and
 * alerts stands: the filter is kept and re-sent on every new connection,
 * reconnects ask to resume after the last `seq`, and gaps are reported only
 * across a reconnect that could not resume (see `observe`).
 */

/** Event types a connection can subscribe to (mirrors the service's protocol). */
export const SUBSCRIBABLE_EVENT_TYPES: readonly SubscribableType[] = ['camera_event', 'alert']

/** A message for the service: `subscribe` or `unsubscribe`. */
export type SubscriptionMessage = Record<string, unknown> & { type: 'subscribe' | 'unsubscribe' }

/** Checks the event types a page passed to `method`, saying what to pass instead. */
export function checkTypes (method: string, eventTypes: readonly string[]): readonly SubscribableType[] {
  if (!Array.isArray(eventTypes)) throw new TypeError(`${method}(): eventTypes must be an array such as ['camera_event', 'alert']`)
  for (const type of eventTypes) {
    if (!SUBSCRIBABLE_EVENT_TYPES.includes(type as SubscribableType)) {
      throw new TypeError(`${method}(): unknown event type ${JSON.stringify(type)}; use ${SUBSCRIBABLE_EVENT_TYPES.join(' or ')}`)
    }
  }
  return eventTypes as readonly SubscribableType[]
}

/** Checks a camera event type list (`event_type`s such as 'motion'), saying what to pass instead. */
function checkCameraEventTypes (method: string, cameraEventTypes: readonly string[]): readonly string[] {
  if (!Array.isArray(cameraEventTypes) || cameraEventTypes.some(type => typeof type !== 'string' || type === '')) {
    throw new TypeError(`${method}(): cameraEventTypes must be an array of event types such as ['motion'], or null for every type`)
  }
  return cameraEventTypes
}

export class Subscriptions {
  readonly #resume: boolean
  readonly #seq = new SeqTracker()
  readonly #types = new Set<SubscribableType>(SUBSCRIBABLE_EVENT_TYPES)
  #cameras: Set<string> | null = null
  /** Camera events' `event_type`s the page wants, or null for every type. */
  #cameraEventTypes: Set<string> | null = null
  #changed = false
  /** The next sequenced message is the first on a new connection. */
  #fresh = false
  /** The service's sequence stream, from the last `connected` status. */
  #stream: string | null = null
  /** The current socket asked for a replay (`last_seq` in its URL). */
  #resuming = false

  /** @param resume reconnects ask the service to replay what was missed. */
  constructor (resume: boolean) {
    this.#resume = resume
  }

  /** The `seq` of the last camera event / alert received, or null. */
  get lastSeq (): number | null {
    return this.#seq.last
  }

  /** The current connection was opened with `last_seq`: the service replays, then says `resumed`. */
  get resuming (): boolean {
    return this.#resuming
  }

  /**
   * Adds event types, cameras to the camera filter and camera event types
   * (`event_type`) to the type filter (`null`: every camera, every type again).
   * @returns the message that tells a live connection.
   */
  subscribe (eventTypes: readonly SubscribableType[], cameraIds?: readonly string[] | null, cameraEventTypes?: readonly string[] | null): SubscriptionMessage {
    const types = checkTypes('subscribe', eventTypes)
    if (cameraEventTypes !== undefined && cameraEventTypes !== null) checkCameraEventTypes('subscribe', cameraEventTypes)
    const wasComplete = this.#complete()
    for (const type of types) this.#types.add(type)
    this.#cameras = widen(this.#cameras, cameraIds)
    this.#cameraEventTypes = widen(this.#cameraEventTypes, cameraEventTypes)
    this.#afterChange(wasComplete)
    return {
      type: 'subscribe',
      event_types: [...types],
      ...(cameraIds === undefined ? {} : { camera_ids: cameraIds }),
      ...(cameraEventTypes === undefined ? {} : { camera_event_types: cameraEventTypes })
    }
  }

  /**
   * Removes event types, cameras from the camera filter and camera event
   * types from the type filter.
   * @returns the message that tells a live connection.
   */
  unsubscribe (eventTypes: readonly SubscribableType[], cameraIds?: readonly string[], cameraEventTypes?: readonly string[]): SubscriptionMessage {
    const types = checkTypes('unsubscribe', eventTypes)
    if (cameraEventTypes !== undefined) checkCameraEventTypes('unsubscribe', cameraEventTypes)
    const wasComplete = this.#complete()
    for (const type of types) this.#types.delete(type)
    if (cameraIds !== undefined && this.#cameras !== null) for (const id of cameraIds) this.#cameras.delete(String(id))
    if (cameraEventTypes !== undefined && this.#cameraEventTypes !== null) for (const type of cameraEventTypes) this.#cameraEventTypes.delete(type)
    this.#afterChange(wasComplete)
    return {
      type: 'unsubscribe',
      event_types: [...types],
      ...(cameraIds === undefined ? {} : { camera_ids: cameraIds }),
      ...(cameraEventTypes === undefined ? {} : { camera_event_types: cameraEventTypes })
    }
  }

  /**
   * The query parameters a new socket adds to its URL (from `&`), and
   * whether it resumes. Known only once a connection delivered a camera
   * event or alert: the service replays everything after it.
   */
  resumeQuery (): string {
    const lastSeq = this.#seq.last
    this.#resuming = this.#resume && lastSeq !== null
    if (!this.#resuming) return ''
    // The sequence it came from: a restarted service without shared
    // history numbers from 1 again, and must answer with a resync.
    return `&last_seq=${lastSeq}` + (this.#stream === null ? '' : `&stream=${encodeURIComponent(this.#stream)}`)
  }

  /** A connection is live (`connected`, with the service's stream). */
  connected (stream: unknown): void {
    if (typeof stream === 'string') this.#stream = stream
    this.#fresh = true
  }

  /** What a new connection needs to have the page's filter again (nothing while it never changed). */
  resendMessages (): SubscriptionMessage[] {
    if (!this.#changed) return []
    // A new connection starts with every type and camera; the service's
    // subscribe only adds, so types the page dropped are removed first.
    const messages: SubscriptionMessage[] = []
    const dropped = SUBSCRIBABLE_EVENT_TYPES.filter(type => !this.#types.has(type))
    if (dropped.length > 0) messages.push({ type: 'unsubscribe', event_types: dropped })
    // A new connection has every type already: the type filter is sent only when there is one.
    const cameraEventTypes = this.#cameraEventTypes === null ? {} : { camera_event_types: [...this.#cameraEventTypes] }
    messages.push({ type: 'subscribe', event_types: [...this.#types], camera_ids: this.#cameras === null ? null : [...this.#cameras], ...cameraEventTypes })
    return messages
  }

  /**
   * `resync_required`: the next `seq` starts a new baseline, and whatever
   * lies between is reported by `resync`, not as a (misleading) gap.
   */
  resyncRequired (words: unknown): ResyncInfo {
    this.#seq.resync()
    return { lastSeq: this.#seq.last, reason: typeof words === 'string' ? words : 'missed messages are no longer kept' }
  }

  /**
   * Records the `seq` of a camera event or alert; returns the gap before it,
   * when it can hide a lost message.
   *
   * Gap detection is left to resume. `seq` is one sequence over every camera
   * and user, so a connection whose token is scoped to some cameras, or that
   * is not the addressee of an alert, sees it skip: those are messages it was
   * never entitled to, and they are never reported. On one connection a skip
   * is never a loss either: the service sends everything it is entitled to,
   * in order, or closes the connection (1013). Across a reconnect, resume
   * replays exactly what this connection was entitled to (or answers
   * `resync_required`). What remains is a reconnect without resume
   * (`resume: false`): the jump across it is reported, as the most that may
   * have been missed, including messages it would never have received.
   */
  observe (seq: number): SeqGap | null {
    const fresh = this.#fresh
    this.#fresh = false
    // With a filter, jumps are expected: the seq is still recorded (resume
    // needs it), but never compared.
    const complete = this.#complete()
    if (!complete) this.#seq.resync()
    const gap = this.#seq.observe(seq, fresh)
    return fresh && !this.#resuming && complete ? gap : null
  }

  /**
   * Whether the page's filter wants a camera event or alert (the service's
   * rule: cameras and camera event types filter camera events only). A replay and the first live
   * messages after a reconnect come before the service has the filter
   * again, so it is applied here too.
   */
  wants (message: AnyMessage): boolean {
    if (!this.#types.has(message.type as SubscribableType)) return false
    if (message.type !== 'camera_event') return true
    return (this.#cameras === null || this.#cameras.has(String(message.camera_id))) &&
      (this.#cameraEventTypes === null || this.#cameraEventTypes.has(String(message.event_type)))
  }

  /** True when every camera event and alert is subscribed: only then is a jump across a reconnect not the page's own filter. */
  #complete (): boolean {
    return this.#cameras === null && this.#cameraEventTypes === null && SUBSCRIBABLE_EVENT_TYPES.every(type => this.#types.has(type))
  }

  #afterChange (wasComplete: boolean): void {
    this.#changed = true
    if (!wasComplete || !this.#complete()) this.#seq.resync()
  }
}

/** A filter after a subscribe: a list widens it (or starts it), `null` lifts it, nothing keeps it. */
function widen (current: Set<string> | null, added: readonly string[] | null | undefined): Set<string> | null {
  if (added === null) return null
  if (added === undefined) return current
  const next = current ?? new Set<string>()
  for (const item of added) next.add(String(item))
  return next
}
