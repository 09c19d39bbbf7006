import { ALERTS, CAMERAS, EVENT_MIX, PEOPLE, VEHICLES, type Camera } from './catalog.js'

/**
 * Publishes realistic camera events (and now and then an alert) to the
 * service through its public HTTP API, exactly as a camera gateway would:
 * POST /api/events and POST /api/alerts with a publisher token.
 */

export interface SimulatorOptions {
  /** The service's base URL, e.g. http://127.0.0.1:8000 */
  url: string
  /** A token with the `publisher` role. */
  token: string
  /** Average events per second (traffic swells and ebbs around it). */
  eventsPerSecond?: number
  /** Average seconds between alerts. */
  alertEverySeconds?: number
  /** Seconds before the first alert, so a newcomer sees one soon. */
  firstAlertAfterSeconds?: number
  /** A number in [0, 1); injectable for repeatable runs. */
  random?: () => number
  /** Told about every publish the service did not accept. */
  onError?: (message: string) => void
}

export interface Publication {
  path: '/api/events' | '/api/alerts'
  body: Record<string, unknown>
}

/** Traffic swells and ebbs over this period, so the chart has a shape. */
const WAVE_MS = 6 * 60_000

export class CameraSimulator {
  readonly #options: Required<SimulatorOptions>
  readonly #inFlight = new Set<Promise<void>>()
  readonly #startedAt = Date.now()
  #eventTimer: ReturnType<typeof setTimeout> | null = null
  #alertTimer: ReturnType<typeof setTimeout> | null = null
  #running = false
  /** Publications the service accepted (HTTP 202). */
  accepted = 0
  /** Publications the service refused or that failed. */
  failed = 0

  constructor (options: SimulatorOptions) {
    this.#options = {
      eventsPerSecond: 2,
      alertEverySeconds: 45,
      firstAlertAfterSeconds: 8,
      random: Math.random,
      onError: () => {},
      ...options
    }
  }

  start (): void {
    if (this.#running) return
    this.#running = true
    this.#scheduleEvent()
    this.#alertTimer = setTimeout(() => { this.#alert() }, this.#options.firstAlertAfterSeconds * 1000)
  }

  /** Stops publishing and waits for the requests in flight. */
  async stop (): Promise<void> {
    this.#running = false
    if (this.#eventTimer !== null) clearTimeout(this.#eventTimer)
    if (this.#alertTimer !== null) clearTimeout(this.#alertTimer)
    this.#eventTimer = this.#alertTimer = null
    await Promise.allSettled([...this.#inFlight])
  }

  /** The next camera event, as a gateway would post it. */
  nextEvent (): Publication {
    const random = this.#options.random
    const camera = this.#pick(CAMERAS.map(c => [c, c.weight] as [Camera, number]))
    const eventType = this.#pick(EVENT_MIX[camera.kind])
    const confidence = Math.round((0.72 + random() * 0.27) * 100) / 100
    const data: Record<string, unknown> = { confidence }
    if (eventType === 'face_recognized') data.person_name = PEOPLE[Math.floor(random() * PEOPLE.length)]
    if (eventType === 'vehicle_detected') {
      data.label = VEHICLES[Math.floor(random() * VEHICLES.length)]
      data.plate = `${String.fromCharCode(65 + Math.floor(random() * 26))}${String.fromCharCode(65 + Math.floor(random() * 26))}-${100 + Math.floor(random() * 900)}`
    }
    return { path: '/api/events', body: { camera_id: camera.id, event_type: eventType, data } }
  }

  /** The next alert. */
  nextAlert (): Publication {
    const random = this.#options.random
    const template = ALERTS[Math.floor(random() * ALERTS.length)]
    const camera = CAMERAS[Math.floor(random() * CAMERAS.length)].id
    return { path: '/api/alerts', body: { level: template.level, message: template.message(camera), data: { camera_id: camera } } }
  }

  #pick<T> (choices: ReadonlyArray<readonly [T, number]>): T {
    const total = choices.reduce((sum, [, weight]) => sum + weight, 0)
    let roll = this.#options.random() * total
    for (const [choice, weight] of choices) {
      roll -= weight
      if (roll < 0) return choice
    }
    return choices[choices.length - 1][0]
  }

  /** Exponential gaps (a Poisson process) around a slowly swelling rate. */
  #scheduleEvent (): void {
    if (!this.#running) return
    const phase = ((Date.now() - this.#startedAt) % WAVE_MS) / WAVE_MS
    const rate = Math.max(this.#options.eventsPerSecond * (1 + 0.6 * Math.sin(2 * Math.PI * phase)), 0.05)
    const delayMs = (-Math.log(1 - this.#options.random()) / rate) * 1000
    this.#eventTimer = setTimeout(() => {
      this.#publish(this.nextEvent())
      this.#scheduleEvent()
    }, Math.min(delayMs, 10_000))
  }

  #alert (): void {
    if (!this.#running) return
    this.#publish(this.nextAlert())
    const delayMs = this.#options.alertEverySeconds * 1000 * (0.5 + this.#options.random())
    this.#alertTimer = setTimeout(() => { this.#alert() }, delayMs)
  }

  #publish (publication: Publication): void {
    const request = fetch(new URL(publication.path, this.#options.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#options.token}` },
      body: JSON.stringify(publication.body)
    }).then(async response => {
      if (response.status === 202) {
        this.accepted++
        return
      }
      this.failed++
      const body = await response.json().catch(() => ({})) as { message?: string }
      this.#options.onError(`POST ${publication.path} answered ${response.status}: ${body.message ?? response.statusText}`)
    }, (err: unknown) => {
      this.failed++
      if (this.#running) this.#options.onError(`POST ${publication.path} failed: ${(err as Error).message}`)
    })
    this.#inFlight.add(request)
    void request.finally(() => this.#inFlight.delete(request))
  }
}
