import type { StatisticsData, StatisticsSource } from '../collector.js'

export interface UpstreamLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

/**
 * JSON from an upstream HTTP endpoint, fetched once per interval for all
 * clients together. On failure the last good value stays and
 * `upstream_stale: true` is set; the outage is logged once, not every tick.
 */
export class UpstreamStatistics implements StatisticsSource {
  readonly name = 'upstream'
  readonly #url: string
  /** The URL as logged: without query or credentials, which may carry secrets. */
  readonly #logUrl: string
  readonly #timeoutMs: number
  readonly #logger: UpstreamLogger
  #last: unknown = null
  #failing = false

  constructor (url: string, timeoutMs: number, logger: UpstreamLogger) {
    this.#url = url
    const parsed = new URL(url)
    this.#logUrl = `${parsed.origin}${parsed.pathname}`
    this.#timeoutMs = timeoutMs
    this.#logger = logger
  }

  async collect (): Promise<StatisticsData> {
    try {
      const response = await fetch(this.#url, {
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: { accept: 'application/json' }
      })
      if (!response.ok) throw new Error(`upstream answered HTTP ${response.status}`)
      this.#last = await response.json()
      if (this.#failing) {
        this.#failing = false
        this.#logger.info({ url: this.#logUrl }, 'upstream statistics recovered')
      }
      return { upstream: this.#last, upstream_stale: false }
    } catch (err) {
      if (!this.#failing) {
        this.#failing = true
        this.#logger.warn({ url: this.#logUrl, err: (err as Error).message }, 'upstream statistics unavailable; serving the last good value as stale')
      }
      return { upstream: this.#last, upstream_stale: true }
    }
  }
}
