import { SUBSCRIBABLE_TYPES, type SequencedMessage, type SubscribableType } from '../protocol/messages.js'

/** Why a subscribe was refused, and the size the filter would have had. */
export type Refusal = { ok: false, filter: 'camera_ids' | 'camera_event_types', wouldHold: number }

/**
 * Each subscribable type's bit. A connection's message types are one small
 * integer rather than a Set: nothing to allocate per connection (a Set with
 * its table costs ~160 bytes on each of 100,000 sockets) and one AND per
 * message in the fan-out.
 */
const TYPE_BIT: Readonly<Record<string, number>> = Object.fromEntries(SUBSCRIBABLE_TYPES.map((type, i) => [type, 1 << i]))
const ALL_TYPES = (1 << SUBSCRIBABLE_TYPES.length) - 1

/**
 * What one connection wants to receive. Three independent parts: the
 * message types, and two filters that apply to `camera_event` only: its
 * camera and its `event_type` (`null` means every camera, every type).
 */
export class Subscription {
  /** The subscribed message types, one bit each (TYPE_BIT). */
  #types = ALL_TYPES
  #cameraIds: Set<string> | null = null
  #cameraEventTypes: Set<string> | null = null
  /**
   * Whether either camera-event filter is set: an unfiltered subscription
   * (nearly every connection) decides a camera event with this one read.
   */
  #narrowed = false

  /** The camera filter, or null for every camera. */
  get cameraIds (): ReadonlySet<string> | null {
    return this.#cameraIds
  }

  /** The camera event type filter, or null for every type. */
  get cameraEventTypes (): ReadonlySet<string> | null {
    return this.#cameraEventTypes
  }

  /** Camera ids in the filter (0 when every camera is wanted). */
  get cameraCount (): number {
    return this.#cameraIds === null ? 0 : this.#cameraIds.size
  }

  /** Camera event types in the filter (0 when every type is wanted). */
  get cameraEventTypeCount (): number {
    return this.#cameraEventTypes === null ? 0 : this.#cameraEventTypes.size
  }

  /**
   * Adds message types; a camera list (or camera event type list) widens
   * that filter, `null` lifts it. A list that would leave more than its cap
   * in the filter changes nothing (the other parts included), so a client
   * can grow a connection's memory only up to the caps.
   * @returns which filter refused, and the size it would have had.
   */
  subscribe (
    eventTypes: readonly SubscribableType[] = [],
    cameraIds?: readonly string[] | null,
    maxCameraIds = Number.POSITIVE_INFINITY,
    cameraEventTypes?: readonly string[] | null,
    maxCameraEventTypes = Number.POSITIVE_INFINITY
  ): { ok: true } | Refusal {
    const cameras = wouldHold(this.#cameraIds, cameraIds)
    if (cameras > maxCameraIds) return { ok: false, filter: 'camera_ids', wouldHold: cameras }
    const types = wouldHold(this.#cameraEventTypes, cameraEventTypes)
    if (types > maxCameraEventTypes) return { ok: false, filter: 'camera_event_types', wouldHold: types }
    for (const type of eventTypes) this.#types |= TYPE_BIT[type]
    this.#cameraIds = widen(this.#cameraIds, cameraIds)
    this.#cameraEventTypes = widen(this.#cameraEventTypes, cameraEventTypes)
    this.#narrowed = this.#cameraIds !== null || this.#cameraEventTypes !== null
    return { ok: true }
  }

  /**
   * Removes message types, cameras and camera event types. Removing from a
   * filter that is `null` (every camera, every type) changes nothing: there
   * is no list to remove from.
   */
  unsubscribe (eventTypes: readonly SubscribableType[] = [], cameraIds?: readonly string[], cameraEventTypes?: readonly string[]): void {
    for (const type of eventTypes) this.#types &= ~TYPE_BIT[type]
    if (cameraIds !== undefined && this.#cameraIds !== null) {
      for (const id of cameraIds) this.#cameraIds.delete(id)
    }
    if (cameraEventTypes !== undefined && this.#cameraEventTypes !== null) {
      for (const type of cameraEventTypes) this.#cameraEventTypes.delete(type)
    }
  }

  /** Whether a sequenced message passes this subscription (the user check is the hub's). */
  wants (message: SequencedMessage): boolean {
    if ((this.#types & TYPE_BIT[message.type]) === 0) return false
    if (message.type !== 'camera_event' || !this.#narrowed) return true
    return (this.#cameraIds === null || this.#cameraIds.has(message.camera_id)) &&
      (this.#cameraEventTypes === null || this.#cameraEventTypes.has(message.event_type))
  }

  /** The `subscribed` answer's body; the lists are bounded by MAX_CAMERA_IDS and MAX_CAMERA_EVENT_TYPES. */
  toJSON (): { event_types: SubscribableType[], camera_ids: string[] | null, camera_count: number, camera_event_types: string[] | null, camera_event_type_count: number } {
    return {
      event_types: SUBSCRIBABLE_TYPES.filter(type => (this.#types & TYPE_BIT[type]) !== 0),
      camera_ids: this.#cameraIds === null ? null : [...this.#cameraIds],
      camera_count: this.cameraCount,
      camera_event_types: this.#cameraEventTypes === null ? null : [...this.#cameraEventTypes],
      camera_event_type_count: this.cameraEventTypeCount
    }
  }
}

/** The size a filter would have after adding `added` (a list), counting each new entry once. */
function wouldHold (current: ReadonlySet<string> | null, added: readonly string[] | null | undefined): number {
  if (added === null || added === undefined) return 0
  let size = current?.size ?? 0
  const seen = new Set<string>()
  for (const item of added) {
    if (current?.has(item) === true || seen.has(item)) continue
    seen.add(item)
    size++
  }
  return size
}

/** A filter after a subscribe: a list widens it (or starts it), `null` lifts it, nothing keeps it. */
function widen (current: Set<string> | null, added: readonly string[] | null | undefined): Set<string> | null {
  if (added === null) return null
  if (added === undefined) return current
  if (current === null) return new Set(added)
  for (const item of added) current.add(item)
  return current
}
