import type { StatisticsData, StatisticsSource } from '../collector.js'
import { jsonDepth, MAX_JSON_DEPTH } from './json-limits.js'

export interface UpstreamLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

export interface UpstreamLimits {
  /** The whole exchange, headers and body, must finish within this. */
  timeoutMs: number
  /** The largest body accepted, counted as it arrives (content-length is not trusted). */
  maxBytes: number
  /** The deepest nesting of arrays/objects accepted. */
  maxDepth?: number
}

/**
 * JSON from an upstream HTTP endpoint, fetched once per interval for all
 * clients together. On failure the last good value stays and
 * `upstream_stale: true` is set; the outage is logged once, not every tick.
 *
 * The upstream is outside the service's control, so its answer is bounded:
 * one deadline over the whole body (a body that never ends is a failure,
 * not a stuck collector), a byte cap enforced while reading, and a nesting
 * cap checked before parsing (deep JSON would make every later
 * JSON.stringify of the statistics throw).
 */
export class UpstreamStatistics implements StatisticsSource {
  readonly name = 'upstream'
  readonly #url: string
  /** Basic credentials from the URL's user info, if it has any. */
  readonly #authorization: string | null
  /** The URL as logged: without query or credentials, which may carry secrets. */
  readonly #logUrl: string
  readonly #timeoutMs: number
  readonly #maxBytes: number
  readonly #maxDepth: number
  readonly #logger: UpstreamLogger
  #last: unknown = null
  #failing = false

  constructor (url: string, limits: UpstreamLimits, logger: UpstreamLogger) {
    const parsed = new URL(url)
    this.#logUrl = `${parsed.origin}${parsed.pathname}`
    // fetch refuses a URL with user info, and its error quotes the whole URL
    // (password and query) into the log: the credentials go in a header instead.
    this.#authorization = parsed.username === '' && parsed.password === ''
      ? null
      : 'Basic ' + Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')
    parsed.username = ''
    parsed.password = ''
    this.#url = parsed.href
    this.#timeoutMs = limits.timeoutMs
    this.#maxBytes = limits.maxBytes
    this.#maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH
    this.#logger = logger
  }

  async collect (): Promise<StatisticsData> {
    try {
      this.#last = await this.#fetch()
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

  async #fetch (): Promise<unknown> {
    const abort = new AbortController()
    const timer = setTimeout(() => { abort.abort(new Error(`upstream did not answer in full within ${this.#timeoutMs} ms (STATS_UPSTREAM_TIMEOUT_MS)`)) }, this.#timeoutMs)
    try {
      const headers: Record<string, string> = { accept: 'application/json' }
      if (this.#authorization !== null) headers.authorization = this.#authorization
      const response = await fetch(this.#url, { signal: abort.signal, headers })
      if (!response.ok) throw new Error(`upstream answered HTTP ${response.status}`)
      const text = await this.#readBody(response, abort)
      const depth = jsonDepth(text, this.#maxDepth)
      if (depth > this.#maxDepth) throw new Error(`upstream JSON is nested deeper than ${this.#maxDepth} levels`)
      return JSON.parse(text)
    } finally {
      clearTimeout(timer)
      // Whatever happened, the connection is not left reading a body nobody wants.
      abort.abort()
    }
  }

  /** The body as text, refused as soon as it passes the byte cap. */
  async #readBody (response: Response, abort: AbortController): Promise<string> {
    const tooLarge = (): Error => new Error(`upstream body is larger than ${this.#maxBytes} bytes (STATS_UPSTREAM_MAX_BYTES)`)
    const declared = Number(response.headers.get('content-length'))
    if (Number.isFinite(declared) && declared > this.#maxBytes) throw tooLarge()
    if (response.body === null) return ''
    const chunks: Uint8Array[] = []
    let size = 0
    const reader = response.body.getReader()
    for (;;) {
      // A deadline that passes mid-body rejects this read.
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > this.#maxBytes) {
        abort.abort()
        await reader.cancel().catch(() => {})
        throw tooLarge()
      }
      chunks.push(value)
    }
    return Buffer.concat(chunks, size).toString('utf8')
  }
}
