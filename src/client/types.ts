import type {
  AlertMessage, CameraEventMessage, ConnectionStatusMessage, ErrorMessage, OnlineUsersListMessage, PongMessage,
  PresenceMessage, StatisticsUpdateMessage, SubscribedMessage, UserStatusChangeMessage
} from '../protocol/messages.js'
import type { SeqGap } from './seq-tracker.js'

/** The shapes the client's modules share and its pages see. */

export type Status = 'connecting' | 'live' | 'polling' | 'offline' | 'unauthorized'

export interface StatusChange {
  status: Status
  previous: Status
  /** Why, in words for a person (close reason, HTTP error...), or null. */
  reason: string | null
}

/** A `connection_status` message; `token_expiring` ones carry `expires_at`. */
export type ConnectionStatus = ConnectionStatusMessage & { expires_at?: string | number }

/** The service could not replay what this page missed: what it shows must be reloaded. */
export interface ResyncInfo {
  /** The `seq` the client asked to resume after. */
  lastSeq: number | null
  /** The service's words. */
  reason: string
}

/** Any message from the service, as received. */
export interface AnyMessage {
  type: string
  [field: string]: unknown
}

/** What `on()` can listen to: the service's message types plus the client's own events. */
export interface ClientEvents {
  [type: string]: unknown
  /** Every status change. */
  status: StatusChange
  /** Pushed over the socket, or fetched from GET /api/statistics while polling. */
  statistics_update: StatisticsUpdateMessage
  camera_event: CameraEventMessage
  alert: AlertMessage
  connection_status: ConnectionStatus
  subscribed: SubscribedMessage
  pong: PongMessage
  /** Presence (admin or presence role): who is online when subscribing, then each change. */
  presence: PresenceMessage
  user_status_change: UserStatusChangeMessage
  online_users_list: OnlineUsersListMessage
  /** An error message from the service about something this client sent. */
  error: ErrorMessage
  /** Camera events or alerts this page never received (missing `seq` numbers). */
  gap: SeqGap
  /**
   * Missed camera events or alerts could not be replayed after a reconnect
   * (too many, or the service restarted): the feed is incomplete. A fresh
   * `statistics_update` follows at once.
   */
  resync: ResyncInfo
  /** Every message, before its typed event. */
  message: AnyMessage
}

/** What the client needs of a WebSocket: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number
  send (data: string): void
  close (code?: number, reason?: string): void
  addEventListener (type: string, listener: (event: any) => void): void
  removeEventListener (type: string, listener: (event: any) => void): void
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

export type Timer = ReturnType<typeof setTimeout>

/** Words for an error of any kind. */
export function describeError (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
