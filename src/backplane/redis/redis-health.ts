import { EventEmitter } from 'node:events'
import type { Redis } from 'ioredis'

export interface HealthLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

/**
 * Whether every Redis connection of this instance is usable. Emits `down`
 * once when the first connection drops and `up` once when all are ready
 * again, and logs each transition once: an outage is one warning and one
 * recovery line, not a line per failed command or reconnection attempt.
 */
export class RedisHealth extends EventEmitter<{ down: [], up: [] }> {
  readonly #clients: Redis[]
  readonly #logger: HealthLogger
  readonly #where: string
  #up = true
  #lastError = ''
  #downSince = 0
  #stopped = false

  constructor (clients: Redis[], where: string, logger: HealthLogger) {
    super()
    this.#clients = clients
    this.#logger = logger
    this.#where = where
    for (const client of clients) {
      client.on('error', (err: Error) => { this.#lastError = err.message })
      client.on('close', () => { this.#update() })
      client.on('end', () => { this.#update() })
      client.on('ready', () => { this.#update() })
    }
  }

  /** True when every connection is ready. */
  get up (): boolean {
    return this.#up
  }

  /** Stops reporting: the connections are about to be closed on purpose. */
  stop (): void {
    this.#stopped = true
  }

  #update (): void {
    if (this.#stopped) return
    const ready = this.#clients.every(client => client.status === 'ready')
    if (ready === this.#up) return
    this.#up = ready
    if (ready) {
      this.#logger.info({ redis: this.#where, downMs: Date.now() - this.#downSince }, 'Redis is reachable again: publishing and cluster state resume')
      this.emit('up')
    } else {
      this.#downSince = Date.now()
      this.#logger.warn({ redis: this.#where, err: this.#lastError === '' ? undefined : this.#lastError }, 'Redis is unreachable: open connections stay, publishing answers 503 and statistics are marked stale until it is back')
      this.emit('down')
    }
  }
}
