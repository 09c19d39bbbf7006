import { createPublicKey } from 'node:crypto'

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
  RATE_LIMIT_MAX: number
  WS_CONNECT_RATE_LIMIT: number
  WS_MESSAGE_RATE_LIMIT: number
  TRUST_PROXY: boolean
  SLOW_CONSUMER_SOFT_BYTES: number
  SLOW_CONSUMER_HARD_BYTES: number
  FANOUT_SLICE_SIZE: number
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
  { name: 'RATE_LIMIT_MAX', def: 1000, min: 0, max: 10_000_000, hint: 'requests per minute, 0 to disable' },
  { name: 'WS_CONNECT_RATE_LIMIT', def: 300, min: 0, max: 10_000_000, hint: 'handshakes per minute, 0 to disable' },
  { name: 'WS_MESSAGE_RATE_LIMIT', def: 20, min: 0, max: 1_000_000, hint: 'messages per second, 0 to disable' },
  { name: 'SLOW_CONSUMER_SOFT_BYTES', def: 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024, hint: 'bytes between 1024 and 1073741824' },
  { name: 'SLOW_CONSUMER_HARD_BYTES', def: 8 * 1024 * 1024, min: 2048, max: 4 * 1024 * 1024 * 1024, hint: 'bytes between 2048 and 4294967296' },
  { name: 'FANOUT_SLICE_SIZE', def: 500, min: 1, max: 1_000_000, hint: 'connections per fan-out slice, between 1 and 1000000' }
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

function readBool (env: Env, name: string, def: boolean, problems: string[]): boolean {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return def
  const text = raw.trim().toLowerCase()
  if (['1', 'true', 'yes'].includes(text)) return true
  if (['0', 'false', 'no'].includes(text)) return false
  problems.push(`${name}=${JSON.stringify(raw)} is not a boolean; use true or false`)
  return def
}

/**
 * Reads and validates the configuration.
 * @throws {ConfigError} naming every bad variable at once.
 */
export function loadConfig (env: Env = process.env): Config {
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
    RATE_LIMIT_MAX: ints.RATE_LIMIT_MAX,
    WS_CONNECT_RATE_LIMIT: ints.WS_CONNECT_RATE_LIMIT,
    WS_MESSAGE_RATE_LIMIT: ints.WS_MESSAGE_RATE_LIMIT,
    TRUST_PROXY: readBool(env, 'TRUST_PROXY', false, problems),
    SLOW_CONSUMER_SOFT_BYTES: ints.SLOW_CONSUMER_SOFT_BYTES,
    SLOW_CONSUMER_HARD_BYTES: ints.SLOW_CONSUMER_HARD_BYTES,
    FANOUT_SLICE_SIZE: ints.FANOUT_SLICE_SIZE
  }
  if (config.SLOW_CONSUMER_HARD_BYTES <= config.SLOW_CONSUMER_SOFT_BYTES) {
    problems.push(`SLOW_CONSUMER_HARD_BYTES=${config.SLOW_CONSUMER_HARD_BYTES} must be larger than SLOW_CONSUMER_SOFT_BYTES=${config.SLOW_CONSUMER_SOFT_BYTES}`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}
