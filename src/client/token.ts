import { describeError } from './types.js'

/**
 * The token the client connects with, and its renewal through the page's
 * `getToken`: a refused token is replaced once per successful connection (a
 * second refusal is final), and a token about to expire is replaced quietly.
 */
export class TokenSource {
  readonly #getToken: (() => string | Promise<string>) | undefined
  #token: string | undefined
  /** A refused token has been replaced once since the last success. */
  #replaced = false

  constructor (token: string | undefined, getToken: (() => string | Promise<string>) | undefined) {
    this.#token = token
    this.#getToken = getToken
  }

  /** The token to send, or undefined before the first `refresh()` when none was given. */
  get current (): string | undefined {
    return this.#token
  }

  /** There is a `getToken` to ask. */
  get renewable (): boolean {
    return this.#getToken !== undefined
  }

  /**
   * Asks `getToken` for a new token.
   * @returns null when it gave one, else why not (for a person).
   */
  async refresh (): Promise<string | null> {
    if (this.#getToken === undefined) return 'there is no getToken'
    try {
      const token = await this.#getToken()
      if (typeof token !== 'string' || token === '') throw new TypeError('getToken() must return a non-empty string')
      this.#token = token
      return null
    } catch (err) {
      return describeError(err)
    }
  }

  /**
   * The service refused the token: true (and the chance spent) when it may be
   * replaced, false when it already was since the last success, or cannot be.
   */
  mayReplaceRefused (): boolean {
    if (this.#replaced || this.#getToken === undefined) return false
    this.#replaced = true
    return true
  }

  /** A connection accepted the token: a later refusal may be replaced again. */
  accepted (): void {
    this.#replaced = false
  }

  /**
   * The service warned that the token expires soon.
   * @returns a fresh token, or null when there is none. A failing getToken is
   *   not an error here: the service closes with 4401 at expiry, handled there.
   */
  async renew (): Promise<string | null> {
    if (this.#getToken === undefined) return null
    let token: string
    try {
      token = await this.#getToken()
    } catch {
      return null
    }
    if (typeof token !== 'string' || token === '') return null
    this.#token = token
    return token
  }
}
