/**
 * Counts one connection's messages in fixed one-second windows. Two numbers
 * per connection, no timers: a flood is detected on the message that
 * exceeds the limit.
 */
export class MessageRateLimiter {
  readonly #limit: number
  #windowStart = 0
  #count = 0

  /** @param limit messages per second; 0 disables the limit */
  constructor (limit: number) {
    this.#limit = limit
  }

  /** Counts a message; false when it exceeds this second's allowance. */
  allow (now: number = Date.now()): boolean {
    if (this.#limit === 0) return true
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now
      this.#count = 0
    }
    return ++this.#count <= this.#limit
  }
}
