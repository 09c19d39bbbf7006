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
  /**
   * Called after a run of the collector's own loop whose data differ from
   * the last pushed snapshot. The service leaves it unset: its backplane
   * drives `collect()` and SnapshotFrames pushes what changed.
   */
  onChange?: (snapshot: Snapshot) => void
}

export class StatisticsCollector {
  readonly #options: CollectorOptions
  readonly #lastGood = new Map<string, StatisticsData>()
  /** Each source's last good values, serialized: the change-detection key. */
  readonly #lastKeys = new Map<string, string>()
  readonly #failing = new Set<string>()
  /** Stages of the run itself that are failing (logged once per outage). */
  readonly #faults = new Set<string>()
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
    } catch (err) {
      // #run contains its own failures; this is the last line that keeps the loop alive.
      this.#fault('collect', err)
    } finally {
      if (!this.#stopped) {
        this.#timer = setTimeout(() => { void this.#tick() }, this.#options.intervalMs)
        this.#timer.unref()
      }
    }
  }

  /** A run never rejects: whatever fails, the last snapshot stands. */
  async #run (): Promise<Snapshot> {
    try {
      const snapshot = await this.#gather()
      this.#recovered('gather')
      return snapshot
    } catch (err) {
      this.#fault('gather', err)
      return this.#latest ?? { timestamp: new Date().toISOString(), data: {} }
    }
  }

  async #gather (): Promise<Snapshot> {
    const { sources, logger } = this.#options
    const results = await Promise.allSettled(sources.map(async source => await source.collect()))
    const data: StatisticsData = {}
    const keys: string[] = []
    results.forEach((result, i) => {
      const name = sources[i].name
      // A source's values are serialized here, one source at a time: values
      // that cannot be (too deep, cyclic, a BigInt) fail that source alone,
      // before they reach the merged snapshot, the pushed frame or /api/statistics.
      let failure: unknown = null
      if (result.status === 'fulfilled') {
        try {
          this.#lastKeys.set(name, JSON.stringify(result.value) ?? '')
          this.#lastGood.set(name, result.value)
        } catch (err) {
          failure = err
        }
      } else {
        failure = result.reason
      }
      if (failure === null) {
        if (this.#failing.delete(name)) logger.info({ source: name }, 'statistics source recovered')
      } else if (!this.#failing.has(name)) {
        this.#failing.add(name)
        logger.warn({ source: name, err: failure }, 'statistics source failed; keeping its last values')
      }
      Object.assign(data, this.#lastGood.get(name))
      keys.push(this.#lastKeys.get(name) ?? '')
    })
    const snapshot: Snapshot = { timestamp: new Date().toISOString(), data }
    const key = keys.join('\n')
    const changed = key !== this.#latestKey
    this.#latest = snapshot
    this.#latestKey = key
    const onChange = this.#options.onChange
    if (changed && !this.#stopped && onChange !== undefined) {
      try {
        onChange(snapshot)
        this.#recovered('push')
      } catch (err) {
        // Pushing failed (say, encoding); the next change tries again.
        this.#latestKey = ''
        this.#fault('push', err)
      }
    }
    return snapshot
  }

  /** Logs a failure of the loop itself once per outage. */
  #fault (stage: string, err: unknown): void {
    if (this.#faults.has(stage)) return
    this.#faults.add(stage)
    this.#options.logger.warn({ stage, err: errorText(err) }, 'statistics run failed; the collector keeps running')
  }

  #recovered (stage: string): void {
    if (this.#faults.delete(stage)) this.#options.logger.info({ stage }, 'statistics run recovered')
  }
}

function errorText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
