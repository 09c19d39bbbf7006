import { httpUrl, origin, redisUrl } from './checks.js'
import { bool, int, list, oneOf, optional, renamed } from './setting.js'

/** With WORKERS > 1, how long past SHUTDOWN_TIMEOUT_MS the primary waits for a worker to exit before it kills it. */
export const WORKER_EXIT_MARGIN_MS = 2000

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Any other NODE_ENV is refused: a typo such as `prod` must not quietly run as development. */
export const NODE_ENVS = ['development', 'production', 'test']

/**
 * Every environment variable the service reads, in the order the README
 * lists them. The Config type, the validation and the README's table all
 * come from here; `npm run config:table` prints the table.
 */
export const SETTINGS = {
  PORT: int({ default: 8000, min: 0, max: 65535, unit: 'TCP port', help: 'Port to listen on' }),
  LISTEN_BACKLOG: int({ default: 4096, min: 1, max: 65535, unit: 'connections', help: 'Connections the kernel queues for the service to accept; past it a client\'s connection attempt is dropped and retried after 1 s, then 3 s. Large enough for a reconnect storm; the kernel caps it at `net.core.somaxconn`' }),
  HOST: optional({ documented: '`127.0.0.1` without `JWT_SECRET`/`JWT_PUBLIC_KEY`, else `0.0.0.0`', help: 'Address to listen on. With the development secret (no `JWT_SECRET` or `JWT_PUBLIC_KEY`) only a loopback address is accepted' }),
  LOG_LEVEL: oneOf(LOG_LEVELS, { default: 'info', what: 'a log level', help: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`' }),
  NODE_ENV: oneOf(NODE_ENVS, { default: 'development', what: 'a known environment', help: '`development`, `production` or `test`; `production` requires a secret or public key of at least 32 bytes' }),
  JWT_SECRET: optional({ trim: false, documented: '(development secret)', help: 'Shared secret; tokens must be HS256. At least 32 bytes in production' }),
  JWT_PUBLIC_KEY: optional({ trim: false, help: 'PEM public key instead of a secret: RSA keys accept RS256 only, P-256 keys ES256 only' }),
  JWT_CLOCK_SKEW_MS: int({ default: 0, min: 0, max: 600_000, unit: 'milliseconds', help: 'Tolerance for `exp`/`nbf`, at the handshake and for live expiry' }),
  JWT_ISSUER: list({ help: 'Comma-separated accepted `iss` values; when set, every token (handshake, HTTP, `auth` refresh) must carry one of them' }),
  JWT_AUDIENCE: list({ help: 'Comma-separated accepted audiences; when set, a token\'s `aud` (a string or an array) must name one of them' }),
  REQUIRE_TOKEN_EXP: bool({ derived: '`true` in production, else `false`', help: 'Refuse tokens without `exp` at the handshake, over HTTP and on an `auth` refresh' }),
  REQUIRE_CAMERA_SCOPE: bool({ default: false, help: 'A token without a `cameras` claim sees no camera (instead of every camera)' }),
  STATS_INTERVAL_MS: int({ default: 5000, min: 100, max: 3_600_000, unit: 'milliseconds', help: 'How often statistics are gathered, and pushed when they changed' }),
  STATS_UPSTREAM_URL: optional({ check: httpUrl, help: 'Optional JSON endpoint merged into statistics as `upstream`' }),
  STATS_UPSTREAM_TIMEOUT_MS: int({ default: 2000, min: 10, max: 60_000, unit: 'milliseconds', help: 'Timeout of the whole upstream fetch, headers and body' }),
  STATS_UPSTREAM_MAX_BYTES: int({ default: 1024 * 1024, min: 1024, max: 256 * 1024 * 1024, unit: 'bytes', help: 'Largest upstream body accepted (counted while reading; `content-length` is not trusted); larger counts as an upstream failure' }),
  CAMERA_STALE_MS: int({ default: 300_000, min: 100, max: 86_400_000, unit: 'milliseconds', help: 'A camera silent for longer than this is marked `stale: true` in the statistics\' `cameras` list (the dashboard\'s Cameras panel); the snapshot carries it as `camera_stale_ms`' }),
  MAX_CONNECTIONS_PER_USER: int({ default: 5, min: 1, max: 10_000, unit: 'connections', help: 'Open WebSocket connections one user (`sub`) may hold' }),
  HEARTBEAT_INTERVAL_MS: int({ default: 30_000, min: 100, max: 3_600_000, unit: 'milliseconds', help: 'Each connection gets a protocol ping once per interval (spread over it in turns of at most 1 s); one that has not answered by its next turn is terminated' }),
  MAX_INBOUND_MESSAGE_BYTES: int({ default: 4096, min: 64, max: 16 * 1024 * 1024, unit: 'bytes', help: 'Largest client message, counted after decompression; larger closes with 1009' }),
  COMPRESSION: oneOf(['on', 'off'], { default: 'on', what: 'on or off', help: '`on`: negotiate permessage-deflate (with `server_no_context_takeover` and `client_no_context_takeover`) with clients that offer it, and compress each large message once for all of them; `off`: never negotiate it' }),
  COMPRESSION_MIN_BYTES: int({ default: 1024, min: 0, max: 16 * 1024 * 1024, unit: 'bytes', help: 'Messages shorter than this go uncompressed even to sockets that negotiated compression' }),
  MAX_CAMERA_IDS: int({ default: 1000, min: 1, max: 1_000_000, unit: 'camera ids per connection', help: 'Camera ids one connection\'s camera filter may hold; a `subscribe` past it gets `too_many_cameras`' }),
  MAX_SOCKETS: int({
    derived: '(from the open-file limit)',
    min: 1,
    max: 10_000_000,
    unit: 'WebSockets',
    note: 'or unset to derive it from the open-file limit',
    help: 'WebSockets one process holds; more get HTTP 503 before the upgrade. Derived as open-file limit − 64 − (`MAX_PENDING_PER_IP` + 64); the server accepts `MAX_SOCKETS` + `MAX_PENDING_PER_IP` + 64 connections in all, so `/healthz` keeps answering at capacity. A value that does not fit the limit stops the start; raise it with `ulimit -n`, `LimitNOFILE` or `--ulimit nofile` (1024 is assumed where the limit cannot be read)'
  }),
  MAX_PENDING_PER_IP: int({ default: 512, min: 1, max: 1_000_000, unit: 'connections per address', help: 'Connections one client address may hold that are not WebSockets (handshakes in progress, unfinished or idle HTTP requests); more are answered 429 and closed. Counted by TCP address even with `TRUST_PROXY`, so raise it behind a proxy' }),
  HEADERS_TIMEOUT_MS: int({ default: 10_000, min: 100, max: 600_000, unit: 'milliseconds', help: 'A request whose headers have not all arrived by then is answered 408 and closed' }),
  REQUEST_TIMEOUT_MS: int({ default: 30_000, min: 100, max: 3_600_000, unit: 'milliseconds', help: 'The same for the whole request (headers and body); at least `HEADERS_TIMEOUT_MS`' }),
  HTTP_RATE_LIMIT_PER_MINUTE: renamed('RATE_LIMIT_MAX', int({ default: 1000, min: 0, max: 10_000_000, unit: 'requests per minute', note: '0 to disable', aliases: ['RATE_LIMIT_MAX'], help: 'HTTP requests per minute per client address; 0 disables' })),
  WS_CONNECT_RATE_LIMIT_PER_MINUTE: renamed('WS_CONNECT_RATE_LIMIT', int({ default: 300, min: 0, max: 10_000_000, unit: 'handshakes per minute', note: '0 to disable', aliases: ['WS_CONNECT_RATE_LIMIT'], help: 'WebSocket handshakes per minute per client address; 0 disables' })),
  WS_MESSAGE_RATE_LIMIT_PER_SECOND: renamed('WS_MESSAGE_RATE_LIMIT', int({ default: 20, min: 0, max: 1_000_000, unit: 'messages per second', note: '0 to disable', aliases: ['WS_MESSAGE_RATE_LIMIT'], help: 'Client messages per second per connection; 0 disables' })),
  TRUST_PROXY: bool({ default: false, help: 'Take the client address from `X-Forwarded-For` (set behind a load balancer)' }),
  ALLOWED_ORIGINS: list({ documented: '(all)', allowEmpty: true, item: origin, help: 'Comma-separated exact browser origins allowed to open a WebSocket; others get 4403' }),
  TOKEN_REFRESH_WARNING_MS: int({ default: 60_000, min: 0, max: 86_400_000, unit: 'milliseconds', help: '`token_expiring` is sent this long before a connection\'s token expires' }),
  // 10000 in both modes (it was 1000 in memory, 10000 in Redis): the window
  // is the promise ("resume within 5 minutes"), the count only caps memory,
  // and 1000 covers just 3.3 events a second over that window. It no longer
  // sizes each connection's live gate (LIVE_GATE_LIMIT), so a larger history
  // costs one buffer per process (a few MB at typical event sizes), not one
  // per connection; and Redis deployments keep the size they had.
  RESUME_HISTORY: int({ default: 10_000, min: 0, max: 1_000_000, unit: 'messages', note: '0 disables resume', aliases: ['REDIS_HISTORY_SIZE'], help: 'Camera events and alerts kept for resume after reconnect, in memory or in Redis; 0 disables resume' }),
  RESUME_WINDOW_MS: int({ default: 300_000, min: 1000, max: 86_400_000, unit: 'milliseconds', help: '... and none older than this' }),
  RESUME_GRACE_MS: int({ default: 500, min: 0, max: 60_000, unit: 'milliseconds', note: '0: resume only with ?last_seq', help: 'How long a new connection\'s live events wait for a first `resume` message' }),
  LIVE_GATE_LIMIT: int({ default: 1000, min: 1, max: 1_000_000, unit: 'messages per connection', help: 'Live events and alerts one connection may have waiting while its resume (or the wait for one) is in progress; past it the held ones are sent first, and a connection still behind is closed with 1013 to resume again' }),
  SLOW_CONSUMER_SOFT_BYTES: int({ default: 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024, unit: 'bytes', help: 'Unsent bytes per connection above which statistics are superseded and frames held back' }),
  SLOW_CONSUMER_HARD_BYTES: int({ default: 8 * 1024 * 1024, min: 2048, max: 4 * 1024 * 1024 * 1024, unit: 'bytes', help: 'Unsent bytes per connection above which it is closed with 1013' }),
  FANOUT_SLICE_SIZE: int({ default: 500, min: 1, max: 1_000_000, unit: 'connections per fan-out slice', help: 'Connections served per slice of a fan-out before yielding to the event loop' }),
  RECONNECT_SPREAD_MS: int({ default: 5000, min: 0, max: 600_000, unit: 'milliseconds', help: 'On shutdown each client is told to reconnect after a random delay below this' }),
  SHUTDOWN_TIMEOUT_MS: int({ default: 10_000, min: 100, max: 600_000, unit: 'milliseconds', help: `The process exits within this after SIGTERM. With \`WORKERS\` > 1 each worker has this long, and the primary kills those still running ${WORKER_EXIT_MARGIN_MS / 1000} s later` }),
  API_DOCS: bool({ default: true, help: 'Serve the OpenAPI document at `/docs/json` and its UI at `/docs` (the same document as docs/openapi.json; nothing in it is secret)' }),
  METRICS_TOKEN: optional({ documented: '(open)', help: 'Bearer secret required by `GET /metrics`' }),
  REDIS_URL: optional({ check: redisUrl, help: 'Redis for several instances as one service; unset runs one process in memory' }),
  INSTANCE_LEASE_MS: int({ default: 15_000, min: 300, max: 600_000, unit: 'milliseconds', help: 'How long a crashed instance\'s connection slots and leadership outlive it' }),
  REDIS_ACQUIRE_TIMEOUT_MS: int({ default: 1000, min: 10, max: 1800, unit: 'milliseconds', help: 'How long a handshake waits for its connection slot in Redis; when Redis is slow, later ones are closed with 1013 `PUSH_BACKPLANE_BUSY` (retry shortly) and nothing is left behind. Below the 2 s after which a Redis that sends nothing back counts as unreachable' }),
  REDIS_ACQUIRE_QUEUE_MAX: int({ default: 5000, min: 1, max: 1_000_000, unit: 'handshakes', help: 'Handshakes of one process waiting to be sent to Redis for their slot; past it new WebSocket upgrades get HTTP 503 `PUSH_BACKPLANE_BUSY` with `Retry-After`' }),
  IDEMPOTENCY_WINDOW_MS: int({ default: 300_000, min: 0, max: 86_400_000, unit: 'milliseconds', note: '0: Idempotency-Key is ignored', help: 'How long a publish\'s `Idempotency-Key` is remembered, per publisher `sub` (in memory at most 100,000 keys, oldest dropped first; with Redis in `push:idem:<sub>:<key>`); 0 ignores the header' }),
  PRESENCE_OFFLINE_DELAY_MS: int({ default: 5000, min: 0, max: 600_000, unit: 'milliseconds', note: '0: at once', help: 'A user whose last connection closes is reported offline (`user_status_change`) only if they have not reconnected within this; a quick reconnect produces no offline/online pair' }),
  WORKERS: int({ default: 1, min: 1, max: 256, unit: 'worker processes', help: 'Worker processes on one port on this machine; more than 1 needs `REDIS_URL`' }),
  WORKER_ACCEPT: oneOf(['shared', 'round-robin'], { default: 'shared', what: 'shared or round-robin', help: 'With `WORKERS` > 1, who accepts connections. `shared`: every worker accepts from the one listening socket, and one that is full or well ahead of the others stops accepting until they catch up; `round-robin`: the primary accepts each connection and hands it to the next worker (even, but about 110 µs more CPU per handshake). Overrides `NODE_CLUSTER_SCHED_POLICY`' })
}
