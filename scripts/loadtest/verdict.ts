/**
 * The load test's verdict: whether a run passed its thresholds, and for each
 * kind of failure the service setting (or option) that usually explains it,
 * so a failed run says what to raise instead of leaving a table of codes.
 */
import { SETTINGS } from '../../src/config/settings.js'

export interface Thresholds {
  /** Connections that may fail to open or be closed by the service during the run. */
  maxFailed: number
  /** Events that may be missing between the ones a socket received (seq gaps, summed over sockets). */
  maxGaps: number
  /** Events the test may fail to publish. */
  maxPublishFailures: number
}

export interface Outcome {
  connections: number
  /** Load-test worker processes, and how many of them reported their figures. */
  workers: number
  workersReported: number
  opened: number
  failed: number
  /** Connections that never opened, by close code or `HTTP <status>[ <code>]`. */
  failuresByCloseCode: Record<string, number>
  /** Connections the service closed during the run, by close code. */
  closesDuringRunByCode: Record<string, number>
  missingEvents: number
  /**
   * Deliveries of the run's events that open sockets still lacked when the
   * run stopped, after waiting for them (a lost message, or a very slow one).
   */
  undelivered: number
  publishFailures: number
  /** Failed publishes by `HTTP <status>` or `error`. */
  publishFailuresByStatus: Record<string, number>
}

export interface Verdict {
  pass: boolean
  /** One line per threshold exceeded. */
  problems: string[]
  /** One line per kind of failure seen, naming what to change. */
  hints: string[]
}

/** A setting's name with its old names, checked against the service's settings by the compiler. */
function setting (name: keyof typeof SETTINGS): string {
  const aliases = (SETTINGS[name] as { aliases?: readonly string[] }).aliases ?? []
  return aliases.length === 0 ? name : `${name} (formerly ${aliases.join(', ')})`
}

const sum = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0)
const matching = (record: Record<string, number>, test: (key: string) => boolean): number =>
  Object.entries(record).reduce((total, [key, n]) => total + (test(key) ? n : 0), 0)

function hintsFor (outcome: Outcome): string[] {
  const hints: string[] = []
  const failures = outcome.failuresByCloseCode
  const closes = outcome.closesDuringRunByCode
  const add = (count: number, text: string): void => { if (count > 0) hints.push(`${count} × ${text}`) }

  add(matching(failures, key => key === 'HTTP 429 PUSH_TOO_MANY_PENDING'),
    `HTTP 429 PUSH_TOO_MANY_PENDING: too many handshakes in flight from one address; raise ${setting('MAX_PENDING_PER_IP')} on the service or lower --ramp`)
  add(matching(failures, key => key.startsWith('HTTP 429') && key !== 'HTTP 429 PUSH_TOO_MANY_PENDING'),
    `HTTP 429 at the handshake: the service's connect rate limit per client address; raise ${setting('WS_CONNECT_RATE_LIMIT_PER_MINUTE')} to at least ${outcome.connections} (0 disables it), or open fewer --connections per minute`)
  add(matching(failures, key => key === 'HTTP 503 PUSH_AT_CAPACITY'),
    `HTTP 503 PUSH_AT_CAPACITY: the service holds ${setting('MAX_SOCKETS')} WebSockets; raise MAX_SOCKETS with the open-file limit (ulimit -n, LimitNOFILE), or add ${setting('WORKERS')} or instances`)
  add(matching(failures, key => key.startsWith('HTTP 503') && key !== 'HTTP 503 PUSH_AT_CAPACITY'),
    'HTTP 503 at the handshake: the service is shutting down or not ready; check its /readyz and log')
  add(matching(failures, key => key === '1008'),
    `closed 1008 at the handshake: the per-user connection limit; raise ${setting('MAX_CONNECTIONS_PER_USER')} or pass more --users`)
  add(matching(failures, key => key === '4401'),
    'closed 4401: the service refused the token; pass --secret with the service\'s JWT_SECRET, or --token-cmd that prints tokens it accepts')
  add(matching(failures, key => key === '4403'),
    `closed 4403: the origin is not allowed; check ${setting('ALLOWED_ORIGINS')}`)
  add(matching(failures, key => key === '1006' || key === 'error'),
    `connections dropped without a close frame (1006): the service may be out of file descriptors or have crashed; check its log, ulimit -n and ${setting('MAX_SOCKETS')}`)
  add(matching(failures, key => key === '1013'),
    `closed 1013 at the handshake (retryable: a browser reconnects): the service waited longer than ${setting('REDIS_ACQUIRE_TIMEOUT_MS')} for Redis to grant the slot, so Redis or this machine is saturated; lower --ramp, or raise REDIS_ACQUIRE_TIMEOUT_MS (at most 1800)`)
  add(matching(failures, key => key === 'still connecting at the end'),
    'still connecting when the run ended: the service did not answer these handshakes in time; lower --ramp or raise --duration')
  add(matching(closes, key => key === '1013'),
    `closed 1013 during the run (slow consumer): this machine did not read fast enough; lower --publish-rate or --connections, or raise ${setting('SLOW_CONSUMER_HARD_BYTES')}`)
  add(matching(closes, key => key === '1012' || key === '1001'),
    'closed 1012/1001 during the run: the service restarted or shut down')
  add(matching(outcome.publishFailuresByStatus, key => key === 'HTTP 429'),
    `publishing got HTTP 429: the HTTP rate limit per client address; raise ${setting('HTTP_RATE_LIMIT_PER_MINUTE')} above --publish-rate × 60 (0 disables it), or lower --publish-rate`)
  add(matching(outcome.publishFailuresByStatus, key => key === 'HTTP 503'),
    'publishing got HTTP 503: the service\'s shared bus (Redis) is unreachable')
  add(matching(outcome.publishFailuresByStatus, key => key === 'HTTP 401' || key === 'HTTP 403'),
    'publishing was refused (401/403): the publisher token does not fit the service\'s key, issuer or audience')
  return hints
}

/** Compares a run with the thresholds. A run in which no connection opened never passes. */
export function judge (outcome: Outcome, thresholds: Thresholds): Verdict {
  const problems: string[] = []
  const failed = outcome.failed + sum(outcome.closesDuringRunByCode)
  if (outcome.opened === 0) problems.push(`no connection opened of ${outcome.connections}`)
  if (outcome.workersReported < outcome.workers) {
    problems.push(`${outcome.workers - outcome.workersReported} of ${outcome.workers} load-test worker processes did not report, so their sockets are not counted (this machine was too busy to finish the run: lower --connections or --ramp)`)
  }
  if (failed > thresholds.maxFailed) problems.push(`${failed} connections failed or were closed by the service (--max-failed ${thresholds.maxFailed})`)
  if (outcome.missingEvents > thresholds.maxGaps) problems.push(`${outcome.missingEvents} events missing in sequence gaps (--max-gaps ${thresholds.maxGaps})`)
  if (outcome.undelivered > thresholds.maxGaps) problems.push(`${outcome.undelivered} deliveries of the run's events had not arrived when the run stopped, after waiting 10 s for them (--max-gaps ${thresholds.maxGaps})`)
  if (outcome.publishFailures > thresholds.maxPublishFailures) problems.push(`${outcome.publishFailures} events failed to publish (--max-publish-failures ${thresholds.maxPublishFailures})`)
  return { pass: problems.length === 0, problems, hints: hintsFor(outcome) }
}
