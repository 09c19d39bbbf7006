import { createPublicKey } from 'node:crypto'
import { FD_RESERVE, FALLBACK_OPEN_FILE_LIMIT, httpHeadroom, maxSocketsFor, readOpenFileLimit } from './net/socket-budget.js'

/**
 * The service's configuration, read once from the environment at start-up.
 *
 * Every variable is checked before anything starts, and a bad value stops the
 * service with one message that names every offending variable at once, so an
 * operator fixes a deployment in one round trip instead of one per variable.
 */

/** The development secret used when JWT_SECRET is unset outside production. */
export const DEVELOPMENT_JWT_SECRET = 'development-secret-do-not-use-in-production'

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256'

export interface JwtKey {
  /** The algorithm that fits the key; the only one the service accepts. */
  algorithm: JwtAlgorithm
  /** HS256: the shared secret; RS256/ES256: the PEM public key. */
  key: string
  /** True when the fixed development secret is in use. */
  development: boolean
}

export interface Config {
  NODE_ENV: string
  PORT: number
  HOST: string
  LOG_LEVEL: string
  jwt: JwtKey
  STATS_INTERVAL_MS: number
  MAX_CONNECTIONS_PER_USER: number
  HEARTBEAT_INTERVAL_MS: number
  MAX_INBOUND_MESSAGE_BYTES: number
  STATS_UPSTREAM_URL: string | null
  STATS_UPSTREAM_TIMEOUT_MS: number
  /** The largest upstream body accepted, counted as it arrives. */
  STATS_UPSTREAM_MAX_BYTES: number
  /** Camera ids one connection's subscription may hold. */
  MAX_CAMERA_IDS: number
  RATE_LIMIT_MAX: number
  WS_CONNECT_RATE_LIMIT: number
  WS_MESSAGE_RATE_LIMIT: number
  TRUST_PROXY: boolean
  /** Redis for running several instances as one service; null runs one process in memory. */
  REDIS_URL: string | null
  /** How long a crashed instance's connection slots and leadership outlive it. */
  INSTANCE_LEASE_MS: number
  /** Camera events and alerts kept in Redis for resume after reconnect. */
  REDIS_HISTORY_SIZE: number
  /** Worker processes on one port (node:cluster); more than 1 needs REDIS_URL. */
  WORKERS: number
  /** Camera events and alerts kept for resume after reconnect (count). */
  RESUME_HISTORY: number
  /** Camera events and alerts kept for resume after reconnect (age). */
  RESUME_WINDOW_MS: number
  /** How long a new connection's live events wait for a first `resume` message. */
  RESUME_GRACE_MS: number
  /** Clients told to reconnect during a drain pick a delay below this. */
  RECONNECT_SPREAD_MS: number
  /** A shutdown takes at most this long; connections still open are then dropped. */
  SHUTDOWN_TIMEOUT_MS: number
  /** A connection is warned this long before its token expires. */
  TOKEN_REFRESH_WARNING_MS: number
  /** Tolerance for `exp`/`nbf`, at the handshake and for live expiry. */
  JWT_CLOCK_SKEW_MS: number
  /** Accepted `iss` values (comma-separated); when set, tokens must carry one. */
  JWT_ISSUER: string[] | null
  /** Accepted `aud` values (comma-separated); when set, a token's aud must name one. */
  JWT_AUDIENCE: string[] | null
  /** Refuse tokens without `exp` (default: on with NODE_ENV=production). */
  REQUIRE_TOKEN_EXP: boolean
  /** Exact browser origins allowed to open a WebSocket; null allows every origin. */
  ALLOWED_ORIGINS: string[] | null
  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: string | null
  SLOW_CONSUMER_SOFT_BYTES: number
  SLOW_CONSUMER_HARD_BYTES: number
  FANOUT_SLICE_SIZE: number
  /** WebSockets this process holds at most; by default what the open-file limit allows. */
  MAX_SOCKETS: number
  /** Connections one address may hold that are not WebSockets (handshakes, unfinished or idle HTTP). */
  MAX_PENDING_PER_IP: number
  /** A request's headers must arrive within this long, or it is answered 408 and closed. */
  HEADERS_TIMEOUT_MS: number
  /** A whole request (headers and body) must arrive within this long. */
  REQUEST_TIMEOUT_MS: number
  /** The open-file limit MAX_SOCKETS was checked against; null when it could not be read. */
  OPEN_FILE_LIMIT: number | null
  /** How long a publish's Idempotency-Key is remembered; 0 ignores the header. */
  IDEMPOTENCY_WINDOW_MS: number
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

type Env = Record<string, string | undefined>

interface IntSpec { name: keyof Config, def: number, min: number, max: number, hint: string }

const INTEGERS: IntSpec[] = [
  { name: 'PORT', def: 8000, min: 0, max: 65535, hint: 'a TCP port between 0 and 65535' },
  { name: 'STATS_INTERVAL_MS', def: 5000, min: 100, max: 3_600_000, hint: 'milliseconds between 100 and 3600000' },
  { name: 'MAX_CONNECTIONS_PER_USER', def: 5, min: 1, max: 10_000, hint: 'a whole number between 1 and 10000' },
  { name: 'HEARTBEAT_INTERVAL_MS', def: 30_000, min: 100, max: 3_600_000, hint: 'milliseconds between 100 and 3600000' },
  { name: 'MAX_INBOUND_MESSAGE_BYTES', def: 4096, min: 64, max: 16 * 1024 * 1024, hint: 'bytes between 64 and 16777216' },
  { name: 'STATS_UPSTREAM_TIMEOUT_MS', def: 2000, min: 10, max: 60_000, hint: 'milliseconds between 10 and 60000' },
  { name: 'STATS_UPSTREAM_MAX_BYTES', def: 1024 * 1024, min: 1024, max: 256 * 1024 * 1024, hint: 'bytes between 1024 and 268435456' },
  { name: 'MAX_CAMERA_IDS', def: 1000, min: 1, max: 1_000_000, hint: 'camera ids per connection, between 1 and 1000000' },
  { name: 'RATE_LIMIT_MAX', def: 1000, min: 0, max: 10_000_000, hint: 'requests per minute, 0 to disable' },
  { name: 'WS_CONNECT_RATE_LIMIT', def: 300, min: 0, max: 10_000_000, hint: 'handshakes per minute, 0 to disable' },
  { name: 'WS_MESSAGE_RATE_LIMIT', def: 20, min: 0, max: 1_000_000, hint: 'messages per second, 0 to disable' },
  { name: 'INSTANCE_LEASE_MS', def: 15_000, min: 300, max: 600_000, hint: 'milliseconds between 300 and 600000' },
  { name: 'REDIS_HISTORY_SIZE', def: 10_000, min: 1, max: 1_000_000, hint: 'a whole number of messages between 1 and 1000000' },
  { name: 'WORKERS', def: 1, min: 1, max: 256, hint: 'a number of worker processes between 1 and 256' },
  { name: 'RESUME_HISTORY', def: 1000, min: 0, max: 1_000_000, hint: 'messages to keep for resume, 0 to disable resume' },
  { name: 'RESUME_WINDOW_MS', def: 300_000, min: 1000, max: 86_400_000, hint: 'milliseconds between 1000 and 86400000' },
  { name: 'RESUME_GRACE_MS', def: 500, min: 0, max: 60_000, hint: 'milliseconds between 0 and 60000 (0: resume only with ?last_seq)' },
  { name: 'RECONNECT_SPREAD_MS', def: 5000, min: 0, max: 600_000, hint: 'milliseconds between 0 and 600000' },
  { name: 'SHUTDOWN_TIMEOUT_MS', def: 10_000, min: 100, max: 600_000, hint: 'milliseconds between 100 and 600000' },
  { name: 'TOKEN_REFRESH_WARNING_MS', def: 60_000, min: 0, max: 86_400_000, hint: 'milliseconds between 0 and 86400000' },
  { name: 'JWT_CLOCK_SKEW_MS', def: 0, min: 0, max: 600_000, hint: 'milliseconds between 0 and 600000' },
  { name: 'SLOW_CONSUMER_SOFT_BYTES', def: 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024, hint: 'bytes between 1024 and 1073741824' },
  { name: 'SLOW_CONSUMER_HARD_BYTES', def: 8 * 1024 * 1024, min: 2048, max: 4 * 1024 * 1024 * 1024, hint: 'bytes between 2048 and 4294967296' },
  { name: 'FANOUT_SLICE_SIZE', def: 500, min: 1, max: 1_000_000, hint: 'connections per fan-out slice, between 1 and 1000000' },
  // 0: derived from the open-file limit (see net/socket-budget.ts).
  { name: 'MAX_SOCKETS', def: 0, min: 1, max: 10_000_000, hint: 'a number of WebSockets between 1 and 10000000, or unset to derive it from the open-file limit' },
  { name: 'MAX_PENDING_PER_IP', def: 512, min: 1, max: 1_000_000, hint: 'connections per address between 1 and 1000000' },
  { name: 'HEADERS_TIMEOUT_MS', def: 10_000, min: 100, max: 600_000, hint: 'milliseconds between 100 and 600000' },
  { name: 'REQUEST_TIMEOUT_MS', def: 30_000, min: 100, max: 3_600_000, hint: 'milliseconds between 100 and 3600000' },
  { name: 'IDEMPOTENCY_WINDOW_MS', def: 300_000, min: 0, max: 86_400_000, hint: 'milliseconds between 0 and 86400000 (0: Idempotency-Key is ignored)' }
]

function readInt (env: Env, spec: IntSpec, problems: string[]): number {
  const raw = env[spec.name]
  if (raw === undefined || raw.trim() === '') return spec.def
  const text = raw.trim()
  if (!/^-?\d+$/.test(text)) {
    problems.push(`${spec.name}=${JSON.stringify(raw)} is not a whole number; expected ${spec.hint}`)
    return spec.def
  }
  const value = Number(text)
  if (value < spec.min || value > spec.max) {
    problems.push(`${spec.name}=${text} is out of range; expected ${spec.hint}`)
    return spec.def
  }
  return value
}

function readJwtKey (env: Env, nodeEnv: string, problems: string[]): JwtKey {
  const secret = env.JWT_SECRET
  const publicKey = env.JWT_PUBLIC_KEY
  if (secret !== undefined && secret !== '' && publicKey !== undefined && publicKey !== '') {
    problems.push('JWT_SECRET and JWT_PUBLIC_KEY are both set; set exactly one (JWT_SECRET for HS256, JWT_PUBLIC_KEY for RS256/ES256)')
    return { algorithm: 'HS256', key: secret, development: false }
  }
  if (publicKey !== undefined && publicKey !== '') {
    // Keys passed through environment files often carry literal "\n".
    const pem = publicKey.includes('\\n') ? publicKey.replace(/\\n/g, '\n') : publicKey
    try {
      const key = createPublicKey(pem)
      if (key.asymmetricKeyType === 'rsa') return { algorithm: 'RS256', key: pem, development: false }
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        return { algorithm: 'ES256', key: pem, development: false }
      }
      problems.push(`JWT_PUBLIC_KEY is a ${key.asymmetricKeyType ?? 'unknown'} key; use an RSA key (RS256) or a P-256 EC key (ES256)`)
    } catch {
      problems.push('JWT_PUBLIC_KEY is not a PEM public key; paste the whole "-----BEGIN PUBLIC KEY-----" block')
    }
    return { algorithm: 'RS256', key: pem, development: false }
  }
  if (secret !== undefined && secret !== '') {
    if (Buffer.byteLength(secret) < 32 && nodeEnv === 'production') {
      problems.push('JWT_SECRET is shorter than 32 bytes; use a long random secret, e.g. `openssl rand -hex 32`')
    }
    return { algorithm: 'HS256', key: secret, development: false }
  }
  if (nodeEnv === 'production') {
    problems.push('JWT_SECRET or JWT_PUBLIC_KEY must be set when NODE_ENV=production')
  }
  return { algorithm: 'HS256', key: DEVELOPMENT_JWT_SECRET, development: true }
}

function readUrl (env: Env, name: string, problems: string[]): string | null {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return null
  try {
    const url = new URL(raw.trim())
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol')
    return url.toString()
  } catch {
    problems.push(`${name}=${JSON.stringify(raw)} is not an http(s) URL`)
    return null
  }
}

function readRedisUrl (env: Env, problems: string[]): string | null {
  const raw = env.REDIS_URL
  if (raw === undefined || raw.trim() === '') return null
  try {
    const url = new URL(raw.trim())
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('protocol')
    if (url.hostname === '') throw new Error('host')
    if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) throw new Error('db')
    return url.toString()
  } catch {
    // The value may carry a password: it is not echoed back.
    problems.push('REDIS_URL is not a Redis URL; expected redis://[:password@]host[:port][/db] or rediss://… for TLS')
    return null
  }
}

function readOrigins (env: Env, problems: string[]): string[] | null {
  const raw = env.ALLOWED_ORIGINS
  if (raw === undefined || raw.trim() === '') return null
  const origins: string[] = []
  for (const part of raw.split(',')) {
    const text = part.trim()
    if (text === '') continue
    let origin: string | null = null
    try {
      const url = new URL(text)
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin
    } catch {}
    // Browsers send the origin exactly (scheme://host[:port], no path, no
    // trailing slash); anything else could never match.
    if (origin === null || origin !== text) {
      problems.push(`ALLOWED_ORIGINS entry ${JSON.stringify(text)} is not an origin; write it as the browser sends it, e.g. https://dashboard.example.com or http://localhost:8080`)
      continue
    }
    origins.push(origin)
  }
  return origins
}

function readBool (env: Env, name: string, def: boolean, problems: string[]): boolean {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return def
  const text = raw.trim().toLowerCase()
  if (['1', 'true', 'yes'].includes(text)) return true
  if (['0', 'false', 'no'].includes(text)) return false
  problems.push(`${name}=${JSON.stringify(raw)} is not a boolean; use true or false`)
  return def
}

/** A comma-separated list of claim values; null when unset. */
function readList (env: Env, name: string, problems: string[]): string[] | null {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return null
  const values = raw.split(',').map(value => value.trim()).filter(value => value !== '')
  if (values.length === 0) problems.push(`${name}=${JSON.stringify(raw)} names no value; give one or more, separated by commas, or leave it unset`)
  return values
}

/**
 * MAX_SOCKETS: by default every WebSocket the open-file limit allows after
 * the reserve; an explicit value that does not fit is refused, because at
 * the limit accept() fails and /healthz stops answering.
 */
function readMaxSockets (requested: number, maxPendingPerIp: number, openFileLimit: number | null, problems: string[]): number {
  const limit = openFileLimit ?? FALLBACK_OPEN_FILE_LIMIT
  const fits = Math.min(maxSocketsFor(limit, maxPendingPerIp), 10_000_000)
  const budget = `the open-file limit is ${openFileLimit === null ? `unknown (assumed ${limit})` : limit}; ${FD_RESERVE} are kept for Redis, logs and files and ${httpHeadroom(maxPendingPerIp)} for HTTP (MAX_PENDING_PER_IP + 64)`
  const raise = 'raise the limit (ulimit -n, systemd LimitNOFILE, docker --ulimit nofile)'
  if (requested === 0) {
    if (fits < 1) problems.push(`MAX_SOCKETS cannot be derived: ${budget}, which leaves no room for WebSockets; ${raise} or lower MAX_PENDING_PER_IP`)
    return Math.max(fits, 1)
  }
  if (openFileLimit !== null && requested > fits) {
    problems.push(`MAX_SOCKETS=${requested} does not fit: ${budget}, so at most ${Math.max(fits, 0)} WebSockets fit; lower MAX_SOCKETS (or leave it unset) or ${raise}`)
  }
  return requested
}

/**
 * Reads and validates the configuration.
 * @throws {ConfigError} naming every bad variable at once.
 */
export function loadConfig (env: Env = process.env, openFileLimit: number | null = readOpenFileLimit()): Config {
  const problems: string[] = []
  const NODE_ENV = env.NODE_ENV ?? 'development'

  const ints: Record<string, number> = {}
  for (const spec of INTEGERS) ints[spec.name] = readInt(env, spec, problems)

  const LOG_LEVEL = (env.LOG_LEVEL ?? 'info').trim().toLowerCase()
  if (!LOG_LEVELS.includes(LOG_LEVEL)) {
    problems.push(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} is not a log level; use one of ${LOG_LEVELS.join(', ')}`)
  }
  const HOST = (env.HOST ?? '0.0.0.0').trim() || '0.0.0.0'

  const config: Config = {
    NODE_ENV,
    PORT: ints.PORT,
    HOST,
    LOG_LEVEL,
    jwt: readJwtKey(env, NODE_ENV, problems),
    STATS_INTERVAL_MS: ints.STATS_INTERVAL_MS,
    MAX_CONNECTIONS_PER_USER: ints.MAX_CONNECTIONS_PER_USER,
    HEARTBEAT_INTERVAL_MS: ints.HEARTBEAT_INTERVAL_MS,
    MAX_INBOUND_MESSAGE_BYTES: ints.MAX_INBOUND_MESSAGE_BYTES,
    STATS_UPSTREAM_URL: readUrl(env, 'STATS_UPSTREAM_URL', problems),
    STATS_UPSTREAM_TIMEOUT_MS: ints.STATS_UPSTREAM_TIMEOUT_MS,
    STATS_UPSTREAM_MAX_BYTES: ints.STATS_UPSTREAM_MAX_BYTES,
    MAX_CAMERA_IDS: ints.MAX_CAMERA_IDS,
    RATE_LIMIT_MAX: ints.RATE_LIMIT_MAX,
    WS_CONNECT_RATE_LIMIT: ints.WS_CONNECT_RATE_LIMIT,
    WS_MESSAGE_RATE_LIMIT: ints.WS_MESSAGE_RATE_LIMIT,
    TRUST_PROXY: readBool(env, 'TRUST_PROXY', false, problems),
    REDIS_URL: readRedisUrl(env, problems),
    INSTANCE_LEASE_MS: ints.INSTANCE_LEASE_MS,
    REDIS_HISTORY_SIZE: ints.REDIS_HISTORY_SIZE,
    WORKERS: ints.WORKERS,
    RESUME_HISTORY: ints.RESUME_HISTORY,
    RESUME_WINDOW_MS: ints.RESUME_WINDOW_MS,
    RESUME_GRACE_MS: ints.RESUME_GRACE_MS,
    RECONNECT_SPREAD_MS: ints.RECONNECT_SPREAD_MS,
    SHUTDOWN_TIMEOUT_MS: ints.SHUTDOWN_TIMEOUT_MS,
    TOKEN_REFRESH_WARNING_MS: ints.TOKEN_REFRESH_WARNING_MS,
    JWT_CLOCK_SKEW_MS: ints.JWT_CLOCK_SKEW_MS,
    JWT_ISSUER: readList(env, 'JWT_ISSUER', problems),
    JWT_AUDIENCE: readList(env, 'JWT_AUDIENCE', problems),
    REQUIRE_TOKEN_EXP: readBool(env, 'REQUIRE_TOKEN_EXP', NODE_ENV === 'production', problems),
    ALLOWED_ORIGINS: readOrigins(env, problems),
    METRICS_TOKEN: env.METRICS_TOKEN === undefined || env.METRICS_TOKEN.trim() === '' ? null : env.METRICS_TOKEN.trim(),
    SLOW_CONSUMER_SOFT_BYTES: ints.SLOW_CONSUMER_SOFT_BYTES,
    SLOW_CONSUMER_HARD_BYTES: ints.SLOW_CONSUMER_HARD_BYTES,
    FANOUT_SLICE_SIZE: ints.FANOUT_SLICE_SIZE,
    MAX_SOCKETS: readMaxSockets(ints.MAX_SOCKETS, ints.MAX_PENDING_PER_IP, openFileLimit, problems),
    MAX_PENDING_PER_IP: ints.MAX_PENDING_PER_IP,
    HEADERS_TIMEOUT_MS: ints.HEADERS_TIMEOUT_MS,
    REQUEST_TIMEOUT_MS: ints.REQUEST_TIMEOUT_MS,
    OPEN_FILE_LIMIT: openFileLimit,
    IDEMPOTENCY_WINDOW_MS: ints.IDEMPOTENCY_WINDOW_MS
  }
  if (config.WORKERS > 1 && config.REDIS_URL === null) {
    problems.push(`WORKERS=${config.WORKERS} needs REDIS_URL: worker processes share connection limits, seq and statistics through Redis; set REDIS_URL or use WORKERS=1`)
  }
  if (config.SLOW_CONSUMER_HARD_BYTES <= config.SLOW_CONSUMER_SOFT_BYTES) {
    problems.push(`SLOW_CONSUMER_HARD_BYTES=${config.SLOW_CONSUMER_HARD_BYTES} must be larger than SLOW_CONSUMER_SOFT_BYTES=${config.SLOW_CONSUMER_SOFT_BYTES}`)
  }
  if (config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS) {
    problems.push(`HEADERS_TIMEOUT_MS=${config.HEADERS_TIMEOUT_MS} must not be larger than REQUEST_TIMEOUT_MS=${config.REQUEST_TIMEOUT_MS}: the headers are part of the request`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}
