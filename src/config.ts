import { FD_RESERVE, FALLBACK_OPEN_FILE_LIMIT, httpHeadroom, maxSocketsFor, readOpenFileLimit } from './net/socket-budget.js'
import { readHost } from './config/bind.js'
import { readJwtKey, type JwtKey } from './config/jwt-key.js'
import type { Setting, ValueOf } from './config/setting.js'
import { SETTINGS } from './config/settings.js'

export { DEVELOPMENT_JWT_SECRET, type JwtAlgorithm, type JwtKey } from './config/jwt-key.js'

/**
 * The service's configuration, read once from the environment at start-up.
 *
 * Each variable is declared once, in config/settings.ts (type, default,
 * range, unit, help); this file reads them all, derives the defaults that
 * depend on the host or on other variables, and cross-checks them.
 *
 * Every variable is checked before anything starts, and a bad value stops the
 * service with one message that names every offending variable at once, so an
 * operator fixes a deployment in one round trip instead of one per variable.
 */

type Settings = typeof SETTINGS
/** A variable's Config field: its own name unless it was renamed (see `renamed`). */
type FieldOf<K, S> = S extends { readonly field: infer F extends string } ? F : K
type Read = { -readonly [K in keyof Settings as FieldOf<K, Settings[K]>]: ValueOf<Settings[K]> }

/** Read, but the key material stays out of Config (it is in `jwt`) and derived values are filled in. */
export interface Config extends Omit<Read, 'HOST' | 'JWT_SECRET' | 'JWT_PUBLIC_KEY' | 'MAX_SOCKETS' | 'REQUIRE_TOKEN_EXP'> {
  jwt: JwtKey
  /** The address to listen on: HOST, or loopback while the development secret is in use, else 0.0.0.0. */
  HOST: string
  /** HOST was unset and is loopback because no key is configured (the start-up log says so). */
  HOST_DEFAULTED_TO_LOOPBACK: boolean
  /** WebSockets this process holds at most; by default what the open-file limit allows. */
  MAX_SOCKETS: number
  /** Refuse tokens without `exp` (default: on with NODE_ENV=production). */
  REQUIRE_TOKEN_EXP: boolean
  /** The open-file limit MAX_SOCKETS was checked against; null when it could not be read. */
  OPEN_FILE_LIMIT: number | null
  /** Things to tell the operator once at start-up (deprecated variable names). */
  warnings: string[]
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Env = Record<string, string | undefined>

const isSet = (raw: string | undefined): raw is string => raw !== undefined && raw.trim() !== ''

/** Reads one variable, or the first of its old names that is set (with a warning). */
function readSetting (env: Env, name: string, setting: Setting, problems: string[], warnings: string[]): unknown {
  let used = isSet(env[name]) ? name : undefined
  for (const alias of setting.aliases ?? []) {
    if (!isSet(env[alias])) continue
    if (used === undefined) {
      used = alias
      warnings.push(`${alias} is deprecated; use ${name} (${alias} will be removed in a later version)`)
    } else {
      warnings.push(`${alias} is deprecated and ignored because ${name} is set; remove ${alias}`)
    }
  }
  if (used === undefined) return setting.default
  const read = setting.read(env[used]!, used)
  if ('value' in read) return read.value
  problems.push(read.problem)
  return setting.default
}

/**
 * MAX_SOCKETS: by default every WebSocket the open-file limit allows after
 * the reserve; an explicit value that does not fit is refused, because at
 * the limit accept() fails and /healthz stops answering.
 */
function maxSockets (requested: number | null, maxPendingPerIp: number, openFileLimit: number | null, problems: string[]): number {
  const limit = openFileLimit ?? FALLBACK_OPEN_FILE_LIMIT
  const fits = Math.min(maxSocketsFor(limit, maxPendingPerIp), 10_000_000)
  const budget = `the open-file limit is ${openFileLimit === null ? `unknown (assumed ${limit})` : limit}; ${FD_RESERVE} are kept for Redis, logs and files and ${httpHeadroom(maxPendingPerIp)} for HTTP (MAX_PENDING_PER_IP + 64)`
  const raise = 'raise the limit (ulimit -n, systemd LimitNOFILE, docker --ulimit nofile)'
  if (requested === null) {
    if (fits < 1) problems.push(`MAX_SOCKETS cannot be derived: ${budget}, which leaves no room for WebSockets; ${raise} or lower MAX_PENDING_PER_IP`)
    return Math.max(fits, 1)
  }
  if (openFileLimit !== null && requested > fits) {
    problems.push(`MAX_SOCKETS=${requested} does not fit: ${budget}, so at most ${Math.max(fits, 0)} WebSockets fit; lower MAX_SOCKETS (or leave it unset) or ${raise}`)
  }
  return requested
}

/** Checks between variables, once each one is valid on its own. */
function crossCheck (config: Config, problems: string[]): void {
  if (config.WORKERS > 1 && config.REDIS_URL === null) {
    problems.push(`WORKERS=${config.WORKERS} needs REDIS_URL: worker processes share connection limits, seq and statistics through Redis; set REDIS_URL or use WORKERS=1`)
  }
  if (config.SLOW_CONSUMER_HARD_BYTES <= config.SLOW_CONSUMER_SOFT_BYTES) {
    problems.push(`SLOW_CONSUMER_HARD_BYTES=${config.SLOW_CONSUMER_HARD_BYTES} must be larger than SLOW_CONSUMER_SOFT_BYTES=${config.SLOW_CONSUMER_SOFT_BYTES}`)
  }
  if (config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS) {
    problems.push(`HEADERS_TIMEOUT_MS=${config.HEADERS_TIMEOUT_MS} must not be larger than REQUEST_TIMEOUT_MS=${config.REQUEST_TIMEOUT_MS}: the headers are part of the request`)
  }
}

/**
 * Reads and validates the configuration.
 * @param openFileLimit the limit MAX_SOCKETS is derived from (tests pass their own).
 * @throws {ConfigError} naming every bad variable at once.
 */
export function loadConfig (env: Env = process.env, openFileLimit: number | null = readOpenFileLimit()): Config {
  const problems: string[] = []
  const warnings: string[] = []
  const read: Record<string, unknown> = {}
  for (const [name, setting] of Object.entries(SETTINGS) as Array<[string, Setting]>) {
    read[setting.field ?? name] = readSetting(env, name, setting, problems, warnings)
  }
  const { HOST, JWT_SECRET, JWT_PUBLIC_KEY, MAX_SOCKETS, REQUIRE_TOKEN_EXP, ...rest } = read as Read
  const jwt = readJwtKey(JWT_SECRET, JWT_PUBLIC_KEY, rest.NODE_ENV, problems, warnings)
  const host = readHost(HOST, jwt, problems)
  const config: Config = {
    ...rest,
    jwt,
    HOST: host.host,
    HOST_DEFAULTED_TO_LOOPBACK: host.defaultedToLoopback,
    MAX_SOCKETS: maxSockets(MAX_SOCKETS, rest.MAX_PENDING_PER_IP, openFileLimit, problems),
    REQUIRE_TOKEN_EXP: REQUIRE_TOKEN_EXP ?? rest.NODE_ENV === 'production',
    OPEN_FILE_LIMIT: openFileLimit,
    warnings
  }
  crossCheck(config, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}
