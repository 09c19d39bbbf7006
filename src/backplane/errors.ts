/**
 * Why a publish failed, in words any backplane can use: the routes answer
 * these without knowing which backplane runs.
 */

/** The shared bus cannot be reached right now: nothing was published. */
export class PublishUnavailableError extends Error {
  constructor (cause?: unknown) {
    super('the shared bus is unavailable', cause === undefined ? undefined : { cause })
    this.name = 'PublishUnavailableError'
  }
}

/**
 * The shared bus was sent the publish but did not confirm it (a timeout, a
 * dropped connection): it may run later or may have run already, so the
 * outcome is unknown. Only a retry with the same idempotency key is safe.
 */
export class PublishUnconfirmedError extends Error {
  constructor (cause: unknown) {
    super('the publish was sent to the shared bus but not confirmed', { cause })
    this.name = 'PublishUnconfirmedError'
  }
}
