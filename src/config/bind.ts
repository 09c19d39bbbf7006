import { isIP } from 'node:net'
import type { JwtKey } from './jwt-key.js'

/** Where the service listens when HOST is unset and a real key is configured. */
export const ALL_INTERFACES = '0.0.0.0'
/** ... and when it is unset while the development secret signs tokens. */
export const LOOPBACK = '127.0.0.1'

/** 127.0.0.0/8, ::1 (also as [::1] or ::ffff:127.x) and localhost: reachable from this machine only. */
export function isLoopback (host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  if (isIP(bare) === 6) return bare === '::1' || /^(0{0,4}:){1,7}:?0*1$/.test(bare) || /^::ffff:127\./.test(bare)
  return false
}

/**
 * HOST, defaulted so that the public development secret is never reachable
 * from other machines: anyone who can reach the service could mint a
 * publisher token with it. Without a configured key the default is loopback,
 * and a HOST that is not loopback is refused.
 */
export function readHost (host: string | null, jwt: JwtKey, problems: string[]): { host: string, defaultedToLoopback: boolean } {
  if (host === null) {
    return jwt.development ? { host: LOOPBACK, defaultedToLoopback: true } : { host: ALL_INTERFACES, defaultedToLoopback: false }
  }
  if (jwt.development && !isLoopback(host)) {
    problems.push(`HOST=${host} would let other machines reach the service while it signs tokens with the public development secret (anyone could mint a publisher token): set JWT_SECRET to a long random secret (\`openssl rand -hex 32\`) or JWT_PUBLIC_KEY, or listen on loopback only with HOST=127.0.0.1`)
  }
  return { host, defaultedToLoopback: false }
}
