import { Type, type Static } from 'typebox'

/**
 * Every message and body the service speaks, as TypeBox schemas with their
 * static types. The schemas validate input and document the protocol; the
 * types keep the code that builds output honest.
 */

/** Event types a connection can subscribe to. `statistics_update` and `connection_status` are always delivered. */
export const SUBSCRIBABLE_TYPES = ['camera_event', 'alert'] as const
export type SubscribableType = typeof SUBSCRIBABLE_TYPES[number]

const CameraId = Type.String({ minLength: 1, maxLength: 128 })
const CameraIdList = Type.Array(CameraId, { maxItems: 1000 })
/**
 * `presence` is asked for like an event type, but only holders of the
 * `admin` or `presence` role get it, and nobody has it by default.
 */
export const PRESENCE_TYPE = 'presence'
const EventTypeList = Type.Array(Type.Enum([...SUBSCRIBABLE_TYPES, PRESENCE_TYPE]), { maxItems: 10 })
export type RequestedType = SubscribableType | typeof PRESENCE_TYPE

/**
 * Camera event types (`event_type`, publishers' strings) one connection's
 * type filter may hold: a page filters by a few; the cap bounds what a
 * client can make a connection keep.
 */
export const MAX_CAMERA_EVENT_TYPES = 64
/** As long as a published `event_type` may be. */
const CameraEventType = Type.String({ minLength: 1, maxLength: 64 })
const CameraEventTypeList = Type.Array(CameraEventType, { maxItems: MAX_CAMERA_EVENT_TYPES })

// ---- client -> server -------------------------------------------------------

export const PingMessage = Type.Object({
  type: Type.Literal('ping'),
  timestamp: Type.Optional(Type.String({ maxLength: 64 }))
}, { additionalProperties: false })

export const SubscribeMessage = Type.Object({
  type: Type.Literal('subscribe'),
  event_types: Type.Optional(EventTypeList),
  /** A list of cameras to add to the filter, or null to receive every camera again. */
  camera_ids: Type.Optional(Type.Union([CameraIdList, Type.Null()])),
  /** Camera event types (`event_type`) to add to the filter, or null to receive every type again. */
  camera_event_types: Type.Optional(Type.Union([CameraEventTypeList, Type.Null()]))
}, { additionalProperties: false })

export const UnsubscribeMessage = Type.Object({
  type: Type.Literal('unsubscribe'),
  event_types: Type.Optional(EventTypeList),
  camera_ids: Type.Optional(CameraIdList),
  camera_event_types: Type.Optional(CameraEventTypeList)
}, { additionalProperties: false })

/**
 * Resume after reconnect: sent as the first message, asks for every missed
 * camera event and alert with a greater `seq` (same as `?last_seq=N`).
 */
export const ResumeMessage = Type.Object({
  type: Type.Literal('resume'),
  last_seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  /** The `stream` of the `connected` status `last_seq` came from; another stream resyncs. */
  stream: Type.Optional(Type.String({ maxLength: 64 }))
}, { additionalProperties: false })

/** A fresh token for the open connection (same `sub`), sent before the old one expires. */
export const AuthMessage = Type.Object({
  type: Type.Literal('auth'),
  token: Type.String({ minLength: 1, maxLength: 8192 })
}, { additionalProperties: false })

/** Asks for the users online anywhere (admin or presence role). */
export const GetOnlineUsersMessage = Type.Object({
  type: Type.Literal('get_online_users')
}, { additionalProperties: false })

export type PingMessage = Static<typeof PingMessage>
export type GetOnlineUsersMessage = Static<typeof GetOnlineUsersMessage>
export type SubscribeMessage = Static<typeof SubscribeMessage>
export type UnsubscribeMessage = Static<typeof UnsubscribeMessage>
export type ResumeMessage = Static<typeof ResumeMessage>
export type AuthMessage = Static<typeof AuthMessage>
export type ClientMessage = PingMessage | SubscribeMessage | UnsubscribeMessage | ResumeMessage | AuthMessage | GetOnlineUsersMessage

export const CLIENT_MESSAGES = {
  ping: PingMessage,
  subscribe: SubscribeMessage,
  unsubscribe: UnsubscribeMessage,
  resume: ResumeMessage,
  auth: AuthMessage,
  get_online_users: GetOnlineUsersMessage
} as const

// ---- server -> client -------------------------------------------------------

const Timestamp = Type.String({ format: 'date-time' })
const Data = Type.Record(Type.String(), Type.Unknown())

export const ConnectionStatusMessage = Type.Object({
  type: Type.Literal('connection_status'),
  status: Type.String(),
  connection_id: Type.Optional(Type.String()),
  user_id: Type.Optional(Type.String()),
  /** `connected`: the sequence `seq` belongs to; resume with it (`&stream=`) to detect a restart. */
  stream: Type.Optional(Type.String()),
  /**
   * `connected`: how often the service gathers statistics (STATS_INTERVAL_MS).
   * It pushes them when they change, and at least every minute (the
   * per-minute series moves on), so a dashboard can tell late from quiet.
   */
  stats_interval_ms: Type.Optional(Type.Integer({ minimum: 1 })),
  message: Type.Optional(Type.String()),
  /** `resumed`: how many missed messages were replayed. */
  replayed: Type.Optional(Type.Integer()),
  /** `server_restart`: wait this long before reconnecting (spreads the reconnects). */
  reconnect_in_ms: Type.Optional(Type.Integer()),
  /** `token_expiring` / `token_refreshed`: when the connection's token expires. */
  expires_at: Type.Optional(Type.Union([Timestamp, Type.Null()])),
  timestamp: Timestamp
})

export const StatisticsUpdateMessage = Type.Object({
  type: Type.Literal('statistics_update'),
  timestamp: Timestamp,
  data: Data
})

export const CameraEventMessage = Type.Object({
  type: Type.Literal('camera_event'),
  timestamp: Timestamp,
  seq: Type.Integer(),
  camera_id: Type.String(),
  event_type: Type.String(),
  data: Data
})

export const AlertLevel = Type.Enum(['info', 'warning', 'critical'])

export const AlertMessage = Type.Object({
  type: Type.Literal('alert'),
  timestamp: Timestamp,
  seq: Type.Integer(),
  level: AlertLevel,
  message: Type.String(),
  /** Present when the alert is meant for one user only. */
  user_id: Type.Optional(Type.String()),
  /** Present when the alert concerns one camera: only tokens whose scope admits it receive it. */
  camera_id: Type.Optional(Type.String()),
  data: Data
})

export const PongMessage = Type.Object({
  type: Type.Literal('pong'),
  timestamp: Timestamp,
  /** The ping's `timestamp`; absent when the ping had none. */
  echo: Type.Optional(Type.String())
})

export const SubscribedMessage = Type.Object({
  type: Type.Literal('subscribed'),
  event_types: Type.Array(Type.String()),
  /** Every camera in the filter (at most MAX_CAMERA_IDS), or null for every camera. */
  camera_ids: Type.Union([Type.Array(Type.String()), Type.Null()]),
  /** How many camera ids the filter holds; 0 with `camera_ids: null`. */
  camera_count: Type.Integer({ minimum: 0 }),
  /** Every camera event type in the filter (at most MAX_CAMERA_EVENT_TYPES), or null for every type. */
  camera_event_types: Type.Union([Type.Array(Type.String()), Type.Null()]),
  /** How many types the filter holds; 0 with `camera_event_types: null`. */
  camera_event_type_count: Type.Integer({ minimum: 0 }),
  timestamp: Timestamp
})

export const ERROR_CODES = ['invalid_json', 'unknown_type', 'invalid_message', 'unsupported_data', 'invalid_token', 'resume_not_allowed', 'too_many_cameras', 'too_many_event_types', 'forbidden_camera', 'forbidden', 'unavailable'] as const

export const ErrorMessage = Type.Object({
  type: Type.Literal('error'),
  code: Type.Enum([...ERROR_CODES]),
  message: Type.String(),
  timestamp: Timestamp
})

/** One online user: connections over every instance, and since when (the first connection). */
export const OnlineUser = Type.Object({
  user_id: Type.String(),
  connections: Type.Integer({ minimum: 0 }),
  since: Timestamp
})

/** Sent once on subscribing to `presence`: who is online now. */
export const PresenceMessage = Type.Object({
  type: Type.Literal('presence'),
  users: Type.Array(OnlineUser),
  count: Type.Integer({ minimum: 0 }),
  timestamp: Timestamp
})

/** A user's first connection anywhere opened (online) or their last one closed (offline, after PRESENCE_OFFLINE_DELAY_MS). */
export const UserStatusChangeMessage = Type.Object({
  type: Type.Literal('user_status_change'),
  user_id: Type.String(),
  online: Type.Boolean(),
  timestamp: Timestamp
})

/** The answer to `get_online_users`. */
export const OnlineUsersListMessage = Type.Object({
  type: Type.Literal('online_users_list'),
  users: Type.Array(OnlineUser),
  count: Type.Integer({ minimum: 0 }),
  timestamp: Timestamp
})

export type OnlineUser = Static<typeof OnlineUser>
export type PresenceMessage = Static<typeof PresenceMessage>
export type UserStatusChangeMessage = Static<typeof UserStatusChangeMessage>
export type OnlineUsersListMessage = Static<typeof OnlineUsersListMessage>
export type ConnectionStatusMessage = Static<typeof ConnectionStatusMessage>
export type StatisticsUpdateMessage = Static<typeof StatisticsUpdateMessage>
export type CameraEventMessage = Static<typeof CameraEventMessage>
export type AlertMessage = Static<typeof AlertMessage>
export type PongMessage = Static<typeof PongMessage>
export type SubscribedMessage = Static<typeof SubscribedMessage>
export type ErrorMessage = Static<typeof ErrorMessage>
export type ErrorCode = typeof ERROR_CODES[number]

/** Messages that carry a `seq` and travel over the fan-out bus. */
export type SequencedMessage = CameraEventMessage | AlertMessage
export type ServerMessage =
  | ConnectionStatusMessage | StatisticsUpdateMessage | SequencedMessage
  | PongMessage | SubscribedMessage | ErrorMessage
  | PresenceMessage | UserStatusChangeMessage | OnlineUsersListMessage

// ---- HTTP bodies ------------------------------------------------------------

export const EventBody = Type.Object({
  camera_id: Type.String({ minLength: 1, maxLength: 128, description: 'The camera the event comes from' }),
  event_type: Type.String({ minLength: 1, maxLength: 64, description: 'What happened, for example motion_detected' }),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Any JSON object, passed through to subscribers' })),
  /** When the event happened; defaults to the time it was received. */
  timestamp: Type.Optional(Type.String({ format: 'date-time', description: 'When the event happened (with a time zone); defaults to the time it was received' }))
}, { additionalProperties: false })

export const AlertBody = Type.Object({
  level: AlertLevel,
  message: Type.String({ minLength: 1, maxLength: 2000, description: 'The alert text shown to people' }),
  /** Deliver to this user's connections only; omit to deliver to everyone. */
  user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Deliver to this user\'s connections only; omit to deliver to everyone' })),
  /** The camera the alert concerns: it reaches only tokens whose `cameras` claim admits it. */
  camera_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'The camera the alert concerns: it reaches only tokens whose cameras claim admits it' })),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Any JSON object, passed through to subscribers' }))
}, { additionalProperties: false })

export const PublishedReply = Type.Object({ seq: Type.Integer({ description: 'The message\'s place in the sequence of events and alerts; clients resume after it' }) })

export type EventBody = Static<typeof EventBody>
export type AlertBody = Static<typeof AlertBody>
