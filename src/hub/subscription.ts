import { SUBSCRIBABLE_TYPES, type SequencedMessage, type SubscribableType } from '../protocol/messages.js'

/**
 * What one connection wants to receive. Two independent parts: the event
 * types, and a camera filter that applies to `camera_event` only
 * (`null` means every camera).
 */
export class Subscription {
  eventTypes = new Set<SubscribableType>(SUBSCRIBABLE_TYPES)
  cameraIds: Set<string> | null = null

  /** Camera ids in the filter (0 when every camera is wanted). */
  get cameraCount (): number {
    return this.cameraIds === null ? 0 : this.cameraIds.size
  }

  /**
   * Adds event types; a camera list widens the filter, `null` lifts it.
   * A camera list that would leave more than `maxCameraIds` ids in the
   * filter changes nothing (event types included), so a client can grow
   * a connection's memory only up to the cap.
   * @returns the size the filter would have had when refused.
   */
  subscribe (eventTypes: readonly SubscribableType[] = [], cameraIds?: readonly string[] | null, maxCameraIds = Number.POSITIVE_INFINITY): { ok: true } | { ok: false, wouldHold: number } {
    if (cameraIds !== null && cameraIds !== undefined) {
      const current = this.cameraIds
      let wouldHold = current?.size ?? 0
      const added = new Set<string>()
      for (const id of cameraIds) {
        if (current?.has(id) === true || added.has(id)) continue
        added.add(id)
        wouldHold++
      }
      if (wouldHold > maxCameraIds) return { ok: false, wouldHold }
    }
    for (const type of eventTypes) this.eventTypes.add(type)
    if (cameraIds === null) {
      this.cameraIds = null
    } else if (cameraIds !== undefined) {
      if (this.cameraIds === null) this.cameraIds = new Set(cameraIds)
      else for (const id of cameraIds) this.cameraIds.add(id)
    }
    return { ok: true }
  }

  /**
   * Removes event types and cameras. Removing cameras while the filter is
   * `null` (every camera) changes nothing: there is no list to remove from.
   */
  unsubscribe (eventTypes: readonly SubscribableType[] = [], cameraIds?: readonly string[]): void {
    for (const type of eventTypes) this.eventTypes.delete(type)
    if (cameraIds !== undefined && this.cameraIds !== null) {
      for (const id of cameraIds) this.cameraIds.delete(id)
    }
  }

  /** Whether a sequenced message passes this subscription (the user check is the hub's). */
  wants (message: SequencedMessage): boolean {
    if (!this.eventTypes.has(message.type)) return false
    if (message.type === 'camera_event' && this.cameraIds !== null) return this.cameraIds.has(message.camera_id)
    return true
  }

  /** The `subscribed` answer's body; the camera list is bounded by MAX_CAMERA_IDS. */
  toJSON (): { event_types: SubscribableType[], camera_ids: string[] | null, camera_count: number } {
    return {
      event_types: SUBSCRIBABLE_TYPES.filter(type => this.eventTypes.has(type)),
      camera_ids: this.cameraIds === null ? null : [...this.cameraIds],
      camera_count: this.cameraCount
    }
  }
}
