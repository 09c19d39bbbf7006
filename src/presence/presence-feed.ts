import type { OnlineUser as RawOnlineUser, Presence, PresenceChange } from '../backplane/backplane.js'
import type { Member } from '../hub/member.js'
import { OutboundFrame } from '../hub/outbound-frame.js'
import { encode } from '../protocol/codec.js'
import type { OnlineUser } from '../protocol/messages.js'

export interface PresenceFeedOptions {
  presence: Presence
  /** PRESENCE_OFFLINE_DELAY_MS: an offline is reported only if the user has not come back within it. */
  offlineDelayMs: number
  /** Whether a member is still connected (a watcher that closed while its snapshot was read is not added). */
  isOpen: (member: Member) => boolean
  /** Counts `user_status_change` messages handed to watchers. */
  onSent?: (messages: number) => void
  /** Told when watchers could not be sent a fresh snapshot after a resync (they keep getting changes). */
  onResyncFailed?: (err: unknown) => void
}

/** Sends one member the list of who is online (the `presence` message). */
type SendSnapshot = (users: OnlineUser[]) => void

/**
 * Changes are collected this long and sent as one combined frame (one
 * write per watching socket): a storm of thousands of users reconnecting
 * becomes a few writes per admin, not thousands.
 */
export const PRESENCE_BATCH_MS = 100

/**
 * What admins see of presence, the same in both modes: the backplane's raw
 * transitions with the offline delay applied (a user who drops and comes
 * back within it produces nothing), batched, and sent to the watching
 * connections as one shared frame per batch, encoded once.
 */
export class PresenceFeed {
  readonly #options: PresenceFeedOptions
  /** Watching members, with how each is sent a snapshot; a member is here only while open (see `forget`). */
  readonly #watchers = new Map<Member, SendSnapshot>()
  /** Members whose snapshot is being read: the batches sent meanwhile wait, to follow the snapshot. */
  readonly #joining = new Map<Member, { snapshot: SendSnapshot, held: OutboundFrame[] }>()
  /** Users whose last connection closed, not yet reported offline: one entry per such user. */
  readonly #leaving = new Map<string, { timer: NodeJS.Timeout, since: number }>()
  #due: Buffer[] = []
  #flushTimer: NodeJS.Timeout | null = null
  readonly #stopListening: () => void
  readonly #stopResync: () => void

  constructor (options: PresenceFeedOptions) {
    this.#options = options
    this.#stopListening = options.presence.onChange(change => { this.#changed(change) })
    this.#stopResync = options.presence.onResync(() => { this.#resync() })
  }

  /** Whether a member gets presence (watching, or about to once its snapshot is sent). */
  watching (member: Member): boolean {
    return this.#watchers.has(member) || this.#joining.has(member)
  }

  /**
   * Starts sending a member the changes: its snapshot first (built by
   * `snapshot`, which may fail: the member is then not watching), then the
   * batches, including those sent while the snapshot was read (applying a
   * change twice leaves the same list).
   */
  async watch (member: Member, snapshot: SendSnapshot): Promise<void> {
    if (this.#joining.has(member)) return
    await this.#sendSnapshots(new Map([[member, snapshot]]), false)
  }

  /**
   * Reads who is online once and sends it to each of `members`, then the
   * batches sent meanwhile; from then on they watch. When the read fails,
   * they watch on only if `keepOnFailure` (a resync: they had a snapshot).
   */
  async #sendSnapshots (members: Map<Member, SendSnapshot>, keepOnFailure: boolean): Promise<void> {
    for (const [member, snapshot] of members) {
      this.#watchers.delete(member)
      this.#joining.set(member, { snapshot, held: [] })
    }
    let users: OnlineUser[] | null = null
    try {
      users = await this.online()
    } finally {
      for (const [member, snapshot] of members) {
        const joining = this.#joining.get(member)
        // Gone meanwhile (unwatched or closed), or a newer watch of its own took over.
        if (joining === undefined || joining.snapshot !== snapshot) continue
        this.#joining.delete(member)
        if (!this.#options.isOpen(member) || (users === null && !keepOnFailure)) continue
        try {
          if (users !== null) snapshot(users)
          for (const frame of joining.held) send(member, frame)
          this.#watchers.set(member, snapshot)
        } catch {
          // A broken connection is closed by its own error handling.
        }
      }
    }
  }

  /** Changes may have been missed: every watcher gets a fresh snapshot (one read for all), then the changes again. */
  #resync (): void {
    if (this.#watchers.size === 0) return
    this.#sendSnapshots(new Map(this.#watchers), true).catch((err: unknown) => { this.#options.onResyncFailed?.(err) })
  }

  unwatch (member: Member): void {
    this.#watchers.delete(member)
    this.#joining.delete(member)
  }

  /** A closed connection: it watches no more. */
  forget (member: Member): void {
    this.unwatch(member)
  }

  /** Who is online as admins see it: users still inside their offline delay included. */
  async online (): Promise<OnlineUser[]> {
    const raw: RawOnlineUser[] = await this.#options.presence.online()
    const users = raw.map(({ userId, connections, since }) => ({ user_id: userId, connections, since: new Date(since).toISOString() }))
    const listed = new Set(raw.map(user => user.userId))
    for (const [userId, { since }] of this.#leaving) {
      if (!listed.has(userId)) users.push({ user_id: userId, connections: 0, since: new Date(since).toISOString() })
    }
    return users
  }

  stop (): void {
    this.#stopListening()
    this.#stopResync()
    for (const { timer } of this.#leaving.values()) clearTimeout(timer)
    this.#leaving.clear()
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer)
    this.#flushTimer = null
    this.#due = []
  }

  #changed ({ userId, online, at, since }: PresenceChange): void {
    const leaving = this.#leaving.get(userId)
    if (online) {
      // Back within the delay: the offline was never reported, so neither is this.
      if (leaving !== undefined) {
        clearTimeout(leaving.timer)
        this.#leaving.delete(userId)
        return
      }
      this.#queue(userId, true, at)
      return
    }
    if (leaving !== undefined) return
    if (this.#options.offlineDelayMs === 0) {
      this.#queue(userId, false, at)
      return
    }
    const timer = setTimeout(() => {
      this.#leaving.delete(userId)
      this.#queue(userId, false, at)
    }, this.#options.offlineDelayMs)
    timer.unref()
    this.#leaving.set(userId, { timer, since })
  }

  #queue (userId: string, online: boolean, at: number): void {
    if (this.#watchers.size === 0 && this.#joining.size === 0) return
    this.#due.push(encode({ type: 'user_status_change', user_id: userId, online, timestamp: new Date(at).toISOString() }))
    if (this.#flushTimer === null) {
      this.#flushTimer = setTimeout(() => { this.#flush() }, PRESENCE_BATCH_MS)
      this.#flushTimer.unref()
    }
  }

  /** One frame for the whole batch, framed once by the transport and shared by every watcher. */
  #flush (): void {
    this.#flushTimer = null
    const due = this.#due
    this.#due = []
    if (due.length === 0) return
    const parts = due.map(payload => new OutboundFrame(payload))
    const frame = parts.length === 1 ? parts[0] : OutboundFrame.combine(parts)
    for (const { held } of this.#joining.values()) held.push(frame)
    let recipients = 0
    for (const member of this.#watchers.keys()) {
      try {
        send(member, frame)
        recipients++
      } catch {
        // A broken connection is closed by its own error handling; the others still get the batch.
        this.#watchers.delete(member)
      }
    }
    if (recipients > 0) this.#options.onSent?.(due.length * recipients)
  }
}

function send (member: Member, frame: OutboundFrame): void {
  const connection = member.connection
  if (connection.sendShared !== undefined) connection.sendShared(frame)
  else if (frame.parts === null) connection.send(frame.payload)
  else for (const part of frame.parts) connection.send(part.payload)
}
