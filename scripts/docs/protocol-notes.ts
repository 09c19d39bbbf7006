import type { CloseCode } from '../../src/protocol/close-codes.js'
import type { ClientMessage, ErrorCode, ServerMessage } from '../../src/protocol/messages.js'

/**
 * What each message, close code and error code of the WebSocket protocol
 * means, for docs/asyncapi.json. The records are typed by the protocol's own
 * unions: a message type, close code or error code added without a line
 * here does not compile.
 */

export const MESSAGE_NOTES: Record<ClientMessage['type'] | ServerMessage['type'], { summary: string, description?: string }> = {
  ping: { summary: 'Application-level ping; answered with `pong`', description: 'The optional `timestamp` (any string up to 64 characters) comes back as the pong\'s `echo`.' },
  subscribe: { summary: 'Adds event types and cameras to the connection\'s filter; answered with `subscribed`', description: '`event_types` adds `camera_event`, `alert` or `presence` (presence needs the admin or presence role). `camera_ids` adds cameras (at most MAX_CAMERA_IDS in all), or null receives every camera again. Cameras the token\'s `cameras` claim does not admit are left out with a `forbidden_camera` error.' },
  unsubscribe: { summary: 'Removes event types and cameras from the filter; answered with `subscribed`' },
  resume: { summary: 'Replays the camera events and alerts missed since `last_seq`', description: 'Only as the first message (else `resume_not_allowed`), within RESUME_GRACE_MS; the same as `?last_seq=N&stream=S` on the URL. Answered by the missed messages and a `connection_status` `resumed`, or `resync_required` when they are no longer kept.' },
  auth: { summary: 'A fresh token for the open connection', description: 'Same `sub` and `cameras` as the connection\'s token; answered with `connection_status` `token_refreshed`, or an `invalid_token` error that leaves the current token in force.' },
  get_online_users: { summary: 'Asks who is online; answered with `online_users_list` (admin or presence role)' },
  connection_status: { summary: 'The connection\'s state', description: '`status` is one of: `connected` (first message: `connection_id`, `user_id`, `stream`), `resumed` (`replayed`), `resync_required` (`message`: the missed messages are gone, reload the state), `token_expiring` and `token_refreshed` (`expires_at`), `server_restart` (`reconnect_in_ms`, then the close 1012).' },
  statistics_update: { summary: 'A statistics snapshot for the token\'s cameras', description: 'Sent on connect and whenever the statistics change, at most every STATS_INTERVAL_MS (5 s by default). Always delivered; no subscription needed.' },
  camera_event: { summary: 'A camera event published with POST /api/events', description: 'Delivered to connections subscribed to `camera_event` whose filter and token scope admit `camera_id`. `seq` grows across events and alerts; resume after the last one received.' },
  alert: { summary: 'An alert published with POST /api/alerts', description: 'Delivered to connections subscribed to `alert`; only to `user_id`\'s connections when set, only to tokens whose scope admits `camera_id` when set.' },
  pong: { summary: 'The answer to `ping`', description: '`echo` is the ping\'s `timestamp`, or null when the ping had none.' },
  subscribed: { summary: 'The connection\'s filter after a `subscribe` or `unsubscribe`' },
  error: { summary: 'A client message was refused; the connection stays open', description: '`code` is one of the error codes below (x-error-codes); `message` says what to fix.' },
  presence: { summary: 'Who is online now, sent once on subscribing to `presence`' },
  user_status_change: { summary: 'A user came online (first connection anywhere) or went offline (after PRESENCE_OFFLINE_DELAY_MS)' },
  online_users_list: { summary: 'The answer to `get_online_users`' }
}

export const CLOSE_CODE_NOTES: Record<keyof typeof CloseCode, string> = {
  NORMAL: 'Closed without an error (the client asked to close).',
  GOING_AWAY: 'The server is shutting down; reconnect to another instance.',
  POLICY_VIOLATION: 'The user already holds MAX_CONNECTIONS_PER_USER connections; close one first.',
  MESSAGE_TOO_BIG: 'A client frame was larger than MAX_INBOUND_MESSAGE_BYTES.',
  INTERNAL_ERROR: 'The server failed while serving this connection; reconnect (and resume).',
  SERVICE_RESTART: 'The server restarts (drain); reconnect after `reconnect_in_ms` of the `server_restart` status, with last_seq to resume.',
  TRY_AGAIN_LATER: 'The connection could not keep up (slow consumer, or a resume fell behind), or shared state (Redis) is unreachable; reconnect after a moment with last_seq.',
  UNAUTHORIZED: 'The token is missing, malformed, badly signed, refused by a claim, or expired on the open connection; get a new token.',
  FORBIDDEN: 'The page\'s Origin is not in ALLOWED_ORIGINS.',
  RATE_LIMITED: 'The client sent more than WS_MESSAGE_RATE_LIMIT_PER_SECOND messages a second.'
}

export const ERROR_CODE_NOTES: Record<ErrorCode, string> = {
  invalid_json: 'The frame is not valid JSON; send one JSON object per text frame.',
  unknown_type: 'The `type` is not a client message type.',
  invalid_message: 'The message does not match its schema (the message names the field), has no `type`, or the URL\'s last_seq is not a whole number.',
  unsupported_data: 'A binary frame; send JSON text frames.',
  invalid_token: 'An `auth` token was refused (invalid, another `sub` or other `cameras`); the current token stays in force until it expires.',
  resume_not_allowed: '`resume` came after other messages; it must be the first message.',
  too_many_cameras: 'The `subscribe` would hold more than MAX_CAMERA_IDS camera ids; nothing was changed.',
  too_many_event_types: 'The `subscribe` would hold more than 64 camera event types (`camera_event_types`); nothing was changed. Unsubscribe some, or send `null` for every type.',
  forbidden_camera: 'Some `camera_ids` are not admitted by the token\'s `cameras` claim; they were left out, the rest applied.',
  forbidden: '`presence` or `get_online_users` needs the admin or presence role.',
  unavailable: 'Who is online could not be read (shared state unreachable); ask again later.'
}
