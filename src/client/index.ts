/**
 * The statistics service's client for pages (and Node): served by the
 * service as an ES module at /assets/statistics-client.js.
 */
export {
  connect, StatisticsClient, endpoints, DEFAULT_TIMINGS, SUBSCRIBABLE_EVENT_TYPES, WS_PATH, STATISTICS_PATH,
  type AnyMessage, type ClientEvents, type ConnectOptions, type ConnectionStatus, type ResyncInfo, type Status, type StatusChange,
  type Timings, type WebSocketConstructor, type WebSocketLike
} from './statistics-client.js'
export { Backoff, backoffCeiling, fullJitter, type BackoffOptions } from './backoff.js'
export { SeqTracker, type SeqGap } from './seq-tracker.js'
