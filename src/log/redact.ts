/**
 * Tokens must never reach a log line. The request serializer redacts the
 * `token` query parameter, and a pino hook scrubs anything that still looks
 * like a bearer token or a JWT from every message, whoever logged it
 * (Fastify's own "route not found" line includes the URL, for example).
 */

const TOKEN_PARAM = /([?&](?:token|access_token)=)[^&#\s]*/gi
const BEARER = /(bearer\s+)[^\s"',]+/gi
const JWT_LIKE = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g

export const REDACTED = '[REDACTED]'

/** Removes tokens from one string. */
export function redact (text: string): string {
  return text
    .replace(TOKEN_PARAM, `$1${REDACTED}`)
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
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key] = scrub(item, depth + 1)
  return out
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
