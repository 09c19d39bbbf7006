/**
 * Gathers statistics from pluggable sources on one interval and merges them
 * into one `data` object. The loop never overlaps itself (the next run is
 * scheduled when the last one ends) and a failing source never stops it: the
 * source's last good values stay and the failure is logged once per outage.
 */

export type StatisticsData = Record<string, unknown>

export interface StatisticsSource {
  readonly name: string
  collect (): StatisticsData | Promise<StatisticsData>
}

export interface Snapshot {
  timestamp: string
  data: StatisticsData
}

export interface CollectorLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

export interface CollectorOptions {
  sources: StatisticsSource[]
  intervalMs: number
  logger: CollectorLogger
  /** Called after a run whose data differ from the last pushed snapshot. */
  onChange: (snapshot: Snapshot) => void
}

export class StatisticsCollector {
  readonly #options: CollectorOptions
  readonly #lastGood = new Map<string, StatisticsData>()
  readonly #failing = new Set<string>()
  #latest: Snapshot | null = null
  #latestKey = ''
  #timer: NodeJS.Timeout | null = null
  #running: Promise<Snapshot> | null = null
  #stopped = true

  constructor (options: CollectorOptions) {
    this.#options = options
  }

  /** The last gathered snapshot, or null before the first run. */
  get latest (): Snapshot | null {
    return this.#latest
  }

  /** Runs once now, then every interval until stopped. */
  start (): void {
    if (!this.#stopped) return
    this.#stopped = false
    void this.#tick()
  }

  /** Stops the loop and waits for a run in progress. */
  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    if (this.#running !== null) await this.#running.catch(() => {})
  }

  /**
   * Gathers now. Concurrent callers share the run in progress instead of
   * starting another, so sources are never asked twice at once.
   */
  collect (): Promise<Snapshot> {
    this.#running ??= this.#run().finally(() => { this.#running = null })
    return this.#running
  }

  async #tick (): Promise<void> {
    try {
      await this.collect()
    } finally {
      if (!this.#stopped) {
        this.#timer = setTimeout(() => { void this.#tick() }, this.#options.intervalMs)
        this.#timer.unref()
      }
    }
  }

  async #run (): Promise<Snapshot> {
    const { sources, logger } = this.#options
    const results = await Promise.allSettled(sources.map(async source => await source.collect()))
    const data: StatisticsData = {}
    results.forEach((result, i) => {
      const name = sources[i].name
      if (result.status === 'fulfilled') {
        this.#lastGood.set(name, result.value)
        if (this.#failing.delete(name)) logger.info({ source: name }, 'statistics source recovered')
      } else if (!this.#failing.has(name)) {
        this.#failing.add(name)
        logger.warn({ source: name, err: result.reason }, 'statistics source failed; keeping its last values')
      }
      Object.assign(data, this.#lastGood.get(name))
    })
    const snapshot: Snapshot = { timestamp: new Date().toISOString(), data }
    const key = JSON.stringify(data)
    const changed = key !== this.#latestKey
    this.#latest = snapshot
    this.#latestKey = key
    if (changed && !this.#stopped) this.#options.onChange(snapshot)
    return snapshot
  }
}
