/**
 * Tokens must never reach a log line. The request serializer redacts the
 * `token` query parameter, and a pino hook scrubs anything that still looks
 * like a bearer token or a JWT from every message, whoever logged it
 * (Fastify's own "route not found" line includes the URL, for example).
 */

/** Query parameters that carry a token (compared after decoding, case-insensitively). */
const TOKEN_NAMES = new Set(['token', 'access_token'])
/** One `name=value` of a query string, up to the next `&` or white space (a raw `#` is part of the value to the parser). */
const QUERY_PARAM = /([?&])([^=&?\s]*)=([^&\s]*)/g
const BEARER = /(bearer\s+)[^\s"',]+/gi
// A JWT starts a word (its header is base64url JSON, so "eyJ"): starting
// only there keeps the scan linear, where "eyJeyJeyJ…" was quadratic.
const JWT_LIKE = /(?<![\w-])eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g
const JWT_INSIDE = /(?<![\w-])eyJ[\w-]{4,}\.[\w-]{4,}\./
/** A run of URL characters; one with a percent-escape may decode to a JWT. (Linear: no backtracking on long words.) */
const URL_RUN = /[\w.~+%-]+/g

export const REDACTED = '[REDACTED]'

/**
 * The forms a query parser may read `text` as: the strict decoding
 * (`+` is a space, as in the query parser), and a lenient one that decodes
 * every ASCII escape even where the strict one fails on a malformed one.
 */
function decodings (text: string): string[] {
  const spaced = text.replace(/\+/g, ' ')
  const lenient = spaced.replace(/%([0-7][0-9a-f])/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  try {
    return [text, decodeURIComponent(spaced), lenient]
  } catch {
    return [text, lenient]
  }
}

/** Removes tokens from one string. */
export function redact (text: string): string {
  return text
    // The parser decodes names and values: `%74oken` is `token`, and `%2E` a dot.
    .replace(QUERY_PARAM, (match, sep: string, name: string) =>
      decodings(name).some(decoded => TOKEN_NAMES.has(decoded.toLowerCase())) ? `${sep}${name}=${REDACTED}` : match)
    .replace(URL_RUN, run => run.includes('%') && decodings(run).some(decoded => JWT_INSIDE.test(decoded)) ? REDACTED : run)
    .replace(BEARER, `$1${REDACTED}`)
    .replace(JWT_LIKE, REDACTED)
}

function scrub (value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value)
  if (depth > 3 || value === null || typeof value !== 'object') return value
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>
    for (const key of Object.getOwnPropertyNames(value)) copy[key] = scrub((value as unknown as Record<string, unknown>)[key], depth + 1)
    return copy
  }
  if (Array.isArray(value)) return value.map(item => scrub(item, depth + 1))
  // Requests, replies and sockets go to their serializers untouched; only
  // plain objects are copied.
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  // fromEntries defines keys: a logged client object's "__proto__" stays a key instead of becoming the copy's prototype.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrub(item, depth + 1)]))
}

/** A pino `hooks.logMethod` that scrubs every argument before it is written. */
export function redactingLogMethod (this: unknown, args: unknown[], method: (...args: unknown[]) => void): void {
  method.apply(this, args.map(arg => scrub(arg, 0)))
}

interface RawRequest { method?: string, url?: string, hostname?: string, ip?: string, socket?: { remotePort?: number } }

/** The request serializer: Fastify's default fields, with the URL redacted. */
export function serializeRequest (request: RawRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redact(request.url),
    host: request.hostname,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}
