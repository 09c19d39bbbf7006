import type { Bus } from '../bus/bus.js'
import type { History } from '../history/history.js'
import type { SlotLimiter } from './slot-limiter.js'
import type { Snapshot, StatisticsSource } from '../stats/collector.js'
import type { ScopedEventSource } from '../stats/sources/camera-views.js'

/**
 * Everything that differs between one process and many instances sharing
 * Redis, behind one interface: the routes and plugins run the same code in
 * both modes, and only the factory (`create-backplane.ts`) knows which one
 * runs. Like socket.io's adapters: the server never asks "am I clustered?".
 */
export interface Backplane {
  /** This instance's id: readable in `instances`, unique across restarts. */
  readonly id: string
  /** Publish (with an idempotency key), `seq`, `stream`, delivery to handlers. */
  readonly bus: Bus
  /** Recent camera events and alerts for resume; appended by the backplane itself. */
  readonly history: History
  /** The per-user connection limit. */
  readonly slots: SlotLimiter
  /** Who is online anywhere: derived from the slots, so it ends with them (release, lease expiry). */
  readonly presence: Presence
  /** Whether the shared state can be reached; one process is always up. */
  readonly health: BackplaneHealth
  /** Connection counts over every instance; `local` are this instance's own (the hub). */
  totals (local: LocalCounts, userId: string, listUsers: boolean): Promise<Totals>
  /** The statistics source that counts camera events (counted once, where they are published), per camera for scoped views. */
  eventStatistics (): ScopedEventSource
  /** The statistics source that counts connections and users over every instance. */
  connectionStatistics (local: LocalCounts): StatisticsSource
  /**
   * Statistics leadership: the instance that leads calls `gather` once per
   * interval, and every instance hands each snapshot that reaches it to
   * `receive` (marked `stale: true` while the shared state is unreachable).
   */
  shareStatistics (gather: () => Promise<Snapshot>, receive: (snapshot: Snapshot) => void): Promise<StatisticsShare>
  /** Called once the app is ready (takes this instance's lease). */
  start (): Promise<void>
  /** Gives back what it holds (lease, leadership) and closes its connections. */
  close (): Promise<void>
}

/** What this instance itself holds open: the connection hub answers it. */
export interface LocalCounts {
  readonly size: number
  readonly userCount: number
  connectionsOf (userId: string): number
  users (): Record<string, number>
}

export interface Totals {
  totalConnections: number
  totalUsers: number
  /** The asking user's connections. */
  userConnections: number
  /** User id → open connections, when asked for. */
  users?: Record<string, number>
  /** Several instances: instance id → open connections, when asked for. */
  instances?: Record<string, number>
  /** Several instances: true when the shared counts could not be read and these are this instance's own. */
  stale?: boolean
}

export interface BackplaneHealth {
  readonly up: boolean
  on (event: 'up' | 'down', listener: () => void): unknown
  off (event: 'up' | 'down', listener: () => void): unknown
}

export interface StatisticsShare {
  /** True while this instance gathers the statistics. */
  readonly leading: boolean
  stop (): Promise<void>
}

/** One online user: connections over every live instance, online since (ms since the epoch). */
export interface OnlineUser {
  userId: string
  connections: number
  since: number
}

/** A user's first slot anywhere was taken (online) or their last one freed or expired (offline). */
export interface PresenceChange {
  userId: string
  online: boolean
  /** When it happened (ms); for an offline change, `since` is when the user had come online. */
  at: number
  since: number
}

/**
 * Raw presence, straight from the slots: no offline delay and no batching
 * (that is the presence feed's, the same in both modes). Every instance
 * gets every change, in the order they happened.
 */
export interface Presence {
  online (): Promise<OnlineUser[]>
  /** @returns a function that stops listening. */
  onChange (listener: (change: PresenceChange) => void): () => void
  /**
   * Changes may have been missed: this instance's feed of them was cut off
   * and is back (a Redis reconnection). Listeners read `online()` again.
   * @returns a function that stops listening.
   */
  onResync (listener: () => void): () => void
}
