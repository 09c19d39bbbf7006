/** What both benchmarks start the service with. */

/** The key every benchmark token is signed with; never a deployment's. */
export const SECRET = 'benchmark-secret-benchmark-secret-0123456789'

/**
 * The service as a benchmark runs it: production mode, quiet logs, and no
 * limit that thousands of clients from one address would trip. Statistics
 * pushes and heartbeats are an hour apart, so only the measured traffic flows.
 */
export const SERVICE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  JWT_SECRET: SECRET,
  LOG_LEVEL: 'warn',
  HTTP_RATE_LIMIT_PER_MINUTE: '0',
  WS_CONNECT_RATE_LIMIT_PER_MINUTE: '0',
  WS_MESSAGE_RATE_LIMIT_PER_SECOND: '0',
  STATS_INTERVAL_MS: '3600000',
  HEARTBEAT_INTERVAL_MS: '3600000'
}

/**
 * The same limits under their names before they said their unit: a
 * `--baseline` checkout from before the rename reads only these.
 */
export const BASELINE_ENV: Readonly<Record<string, string>> = {
  RATE_LIMIT_MAX: '0',
  WS_CONNECT_RATE_LIMIT: '0',
  WS_MESSAGE_RATE_LIMIT: '0'
}
