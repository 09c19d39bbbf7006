import type { ConnectionHub } from '../../hub/connection-hub.js'
import type { StatisticsData, StatisticsSource } from '../collector.js'

/** Connection and user counts from the hub. */
export class ConnectionStatistics implements StatisticsSource {
  readonly name = 'connections'
  readonly #hub: ConnectionHub

  constructor (hub: ConnectionHub) {
    this.#hub = hub
  }

  collect (): StatisticsData {
    return { total_connections: this.#hub.size, total_users: this.#hub.userCount }
  }
}
