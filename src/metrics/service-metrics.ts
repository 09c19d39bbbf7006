import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** What the metrics read from the hub; counters another part of the hub may provide are optional. */
export interface HubView {
  readonly size: number
  readonly userCount: number
  readonly counters?: { coalesced?: number, superseded?: number, slow_consumer_closed?: number, slowConsumerClosed?: number }
}

// Process metrics (CPU, memory, event-loop delay, GC, handles) describe the
// process, not an app instance: they are collected once, in one registry,
// however many apps a process builds (the tests build hundreds).
let processRegistry: Registry | null = null
function processMetrics (): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/**
 * The service's Prometheus metrics, in a registry of their own per app
 * instance. Counts that live elsewhere (open connections, users, the
 * outbound queues' counters on the hub) are read when scraped, so the hot
 * path pays nothing for them.
 */
export class ServiceMetrics {
  readonly registry = new Registry()
  readonly refused: Counter<'code'>
  readonly sent: Counter<'type'>
  readonly fanout: Histogram
  readonly drained: Counter

  constructor (hub: () => HubView | undefined) {
    const registers = [this.registry]
    new Gauge({
      name: 'push_open_connections',
      help: 'Open WebSocket connections',
      registers,
      collect () { this.set(hub()?.size ?? 0) }
    })
    new Gauge({
      name: 'push_connected_users',
      help: 'Distinct users with at least one open connection',
      registers,
      collect () { this.set(hub()?.userCount ?? 0) }
    })
    this.refused = new Counter({
      name: 'push_connections_refused_total',
      help: 'WebSocket connections refused at the handshake, by close code (4401 token, 4403 origin, 1008 limit, 1012 draining) or HTTP status (503 at MAX_SOCKETS)',
      labelNames: ['code'],
      registers
    })
    this.sent = new Counter({
      name: 'push_messages_sent_total',
      help: 'Messages sent to connections, by message type',
      labelNames: ['type'],
      registers
    })
    this.fanout = new Histogram({
      name: 'push_fanout_duration_seconds',
      help: 'Time to hand one camera event or alert to every connection that wants it',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers
    })
    this.drained = new Counter({
      name: 'push_drain_closed_total',
      help: 'Connections told to reconnect elsewhere during a graceful drain',
      registers
    })
    // Two different savings of the outbound queue (hub/outbound-queue.ts):
    // frames that shared a socket write, and snapshots never written at all.
    new Counter({
      name: 'push_coalesced_total',
      help: 'WebSocket frames that went out in the same socket write as an earlier frame to the same connection (frames due in one tick are written together); none is dropped',
      registers,
      collect () {
        this.reset()
        this.inc(hub()?.counters?.coalesced ?? 0)
      }
    })
    new Counter({
      name: 'push_snapshots_superseded_total',
      help: 'statistics_update messages never sent because a newer one replaced them while the connection was backed up (above SLOW_CONSUMER_SOFT_BYTES)',
      registers,
      collect () {
        this.reset()
        this.inc(hub()?.counters?.superseded ?? 0)
      }
    })
    new Counter({
      name: 'push_slow_consumer_closed_total',
      help: 'Connections closed with 1013 because they fell too far behind',
      registers,
      collect () {
        const counters = hub()?.counters
        this.reset()
        this.inc(counters?.slow_consumer_closed ?? counters?.slowConsumerClosed ?? 0)
      }
    })
  }

  /** The Prometheus text exposition of the service and process metrics. */
  async render (): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()])
    return `${own}\n${process}`
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
