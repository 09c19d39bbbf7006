import type { StatisticsData, StatisticsSource } from '../collector.js'

/** What this instance holds open (the connection hub). */
export interface OpenConnections {
  readonly size: number
  readonly userCount: number
}

/** Connection and user counts of this instance. */
export class ConnectionStatistics implements StatisticsSource {
  readonly name = 'connections'
  readonly #local: OpenConnections

  constructor (local: OpenConnections) {
    this.#local = local
  }

  collect (): StatisticsData {
    return { total_connections: this.#local.size, total_users: this.#local.userCount }
  }
}
