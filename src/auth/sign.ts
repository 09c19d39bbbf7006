import { createSigner } from 'fast-jwt'
import type { JwtAlgorithm } from '../config.js'

export interface TokenClaims {
  sub: string
  roles?: string[]
  /** Camera ids and prefixes ending in `*` the holder may see; absent: every camera. */
  cameras?: string[]
  [claim: string]: unknown
}

/** Parses a lifetime such as `90s`, `15m`, `1h`, `7d` or plain seconds into milliseconds. */
export function parseTtl (text: string): number {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim())
  if (match === null) throw new Error(`invalid ttl ${JSON.stringify(text)}: use a number with s, m, h or d, such as 1h`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 's'] ?? 1000
  return Number(match[1]) * unit
}

/**
 * Signs a token. `key` is the shared secret for HS256 or the PEM private key
 * for RS256/ES256. Used by the token script, the demo and the tests.
 */
export function signToken (claims: TokenClaims, options: { key: string, algorithm?: JwtAlgorithm, ttlMs?: number }): string {
  const sign = createSigner({
    key: options.key,
    algorithm: options.algorithm ?? 'HS256',
    ...(options.ttlMs === undefined ? {} : { expiresIn: options.ttlMs })
  })
  return sign(claims)
}
