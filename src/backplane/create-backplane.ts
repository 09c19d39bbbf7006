import type { Bus } from '../bus/bus.js'
import type { Config } from '../config.js'
import type { History } from '../history/history.js'
import type { Backplane } from './backplane.js'
import { MemoryBackplane } from './memory-backplane.js'
import { RedisBackplane } from './redis/redis-backplane.js'

export interface BackplaneLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export interface BackplaneOverrides {
  /** One process only: a bus of the caller's own. */
  bus?: Bus
  /** One process only: a history of the caller's own (tests). */
  history?: History
}

/**
 * The one place that chooses between one process and many: with REDIS_URL
 * the bus, the history, the slots, the totals and the statistics leadership
 * are shared through Redis (start-up fails with a clear message when Redis
 * cannot be reached); without it everything stays in this process. Nothing
 * else in the service imports the Redis folder or asks which one runs.
 */
export async function createBackplane (config: Config, logger: BackplaneLogger, overrides: BackplaneOverrides = {}): Promise<Backplane> {
  const common = {
    historySize: config.RESUME_HISTORY,
    historyWindowMs: config.RESUME_WINDOW_MS,
    idempotencyWindowMs: config.IDEMPOTENCY_WINDOW_MS,
    maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
    statisticsIntervalMs: config.STATS_INTERVAL_MS,
    logger
  }
  if (config.REDIS_URL === null) return new MemoryBackplane({ ...common, ...overrides })
  const backplane = await RedisBackplane.connect({
    ...common,
    url: config.REDIS_URL,
    leaseMs: config.INSTANCE_LEASE_MS,
    acquireTimeoutMs: config.REDIS_ACQUIRE_TIMEOUT_MS,
    maxQueuedAcquires: config.REDIS_ACQUIRE_QUEUE_MAX
  })
  logger.info({ instanceId: backplane.id }, 'cluster mode: sharing connections, events and statistics through Redis')
  return backplane
}
