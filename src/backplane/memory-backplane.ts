import { EventEmitter } from 'node:events'
import type { Bus } from '../bus/bus.js'
import { MemoryBus } from '../bus/memory-bus.js'
import type { History } from '../history/history.js'
import { MemoryHistory } from '../history/memory-history.js'
import { LocalSlotLimiter } from './slot-limiter.js'
import type { Snapshot, StatisticsSource } from '../stats/collector.js'
import { ConnectionStatistics } from '../stats/sources/connections.js'
import { EventStatistics } from '../stats/sources/events.js'
import type { ScopedEventSource } from '../stats/sources/camera-views.js'
import type { Backplane, BackplaneHealth, LocalCounts, StatisticsShare, Totals } from './backplane.js'
import { newInstanceId } from './instance-id.js'
import { MemoryPresence } from './memory-presence.js'

export interface MemoryBackplaneOptions {
  /** How long a publish's idempotency key is remembered (IDEMPOTENCY_WINDOW_MS). */
  idempotencyWindowMs: number
  /** The most connections one user may hold open (MAX_CONNECTIONS_PER_USER). */
  maxConnectionsPerUser: number
  /** Messages kept for resume (RESUME_HISTORY; 0 disables resume). */
  historySize: number
  /** How long a message is kept for resume (RESUME_WINDOW_MS). */
  historyWindowMs: number
  /** How often the statistics are gathered (STATS_INTERVAL_MS). */
  statisticsIntervalMs: number
  logger: { error (obj: object, msg: string): void }
  /** A bus of the caller's own instead of the in-memory one. */
  bus?: Bus
  /** A history of the caller's own instead of the in-memory one (tests). */
  history?: History
}

/** One process is its own cluster: always reachable. */
class AlwaysUp extends EventEmitter<{ up: [], down: [] }> implements BackplaneHealth {
  readonly up = true
}

/**
 * One process, everything in memory: `seq` is a counter, the history a ring
 * buffer, the slots a map, and this process gathers its statistics itself.
 * It records each published message in the history and the event counters
 * from its own bus, in the publishing call.
 */
export class MemoryBackplane implements Backplane {
  readonly id = newInstanceId()
  readonly bus: Bus
  readonly history: History
  readonly slots: LocalSlotLimiter
  readonly presence: MemoryPresence
  readonly health = new AlwaysUp()
  readonly #events = new EventStatistics()
  readonly #intervalMs: number
  readonly #logger: MemoryBackplaneOptions['logger']
  readonly #stopRecording: Array<() => void>
  readonly #shares = new Set<StatisticsShare>()

  constructor (options: MemoryBackplaneOptions) {
    const { logger } = options
    this.bus = options.bus ?? new MemoryBus({ idempotencyWindowMs: options.idempotencyWindowMs, logger })
    this.history = options.history ?? new MemoryHistory({ maxMessages: options.historySize, windowMs: options.historyWindowMs })
    this.presence = new MemoryPresence(() => this.slots.users())
    this.slots = new LocalSlotLimiter(options.maxConnectionsPerUser, this.presence.changed)
    this.#intervalMs = options.statisticsIntervalMs
    this.#logger = logger
    const history = this.history
    this.#stopRecording = [
      this.bus.onMessage(message => { this.#events.record(message) }),
      this.bus.onMessage(message => {
        void Promise.resolve(history.append(message)).catch((err: unknown) => {
          logger.error({ err, seq: message.seq }, 'could not record a message for resume; clients resuming past it will be told to resync')
        })
      })
    ]
  }

  async totals (local: LocalCounts, userId: string, listUsers: boolean): Promise<Totals> {
    return {
      totalConnections: local.size,
      totalUsers: local.userCount,
      userConnections: local.connectionsOf(userId),
      ...(listUsers ? { users: local.users() } : {})
    }
  }

  eventStatistics (): ScopedEventSource {
    return this.#events
  }

  connectionStatistics (local: LocalCounts): StatisticsSource {
    return new ConnectionStatistics(local)
  }

  /** This process always leads: it gathers once per interval, the next run scheduled when the last ends. */
  async shareStatistics (gather: () => Promise<Snapshot>, receive: (snapshot: Snapshot) => void): Promise<StatisticsShare> {
    let timer: NodeJS.Timeout | null = null
    let running: Promise<void> | null = null
    let stopped = false
    const tick = (): void => {
      running = gather().then(snapshot => { if (!stopped) receive(snapshot) }).catch((err: unknown) => {
        // A run that failed leaves the last snapshot standing; the loop goes on.
        this.#logger.error({ err }, 'statistics run failed; the next interval tries again')
      }).finally(() => {
        running = null
        if (stopped) return
        timer = setTimeout(tick, this.#intervalMs)
        timer.unref()
      })
    }
    const share: StatisticsShare = {
      leading: true,
      stop: async () => {
        stopped = true
        this.#shares.delete(share)
        if (timer !== null) clearTimeout(timer)
        await (running as Promise<void> | null)
      }
    }
    this.#shares.add(share)
    tick()
    return share
  }

  async start (): Promise<void> {}

  async close (): Promise<void> {
    for (const share of [...this.#shares]) await share.stop()
    for (const stop of this.#stopRecording) stop()
    await this.bus.close()
  }
}
