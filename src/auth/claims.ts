/**
 * The service's own checks on a token's claims, after its signature and
 * fast-jwt's checks (exp/nbf against the clock) have passed. Every reason
 * names the claim and fits a WebSocket close frame (123 bytes).
 */

/** 9999-12-31T23:59:59Z: the latest date an ISO timestamp (and `expires_at`) can carry. */
export const MAX_CLAIM_SECONDS = 253_402_300_799

const DATE_CLAIMS = ['exp', 'nbf', 'iat'] as const

export interface ClaimPolicy {
  /** Accepted `iss` values; null accepts any (and none). */
  issuers: readonly string[] | null
  /** Accepted `aud` values (one must be in the token's aud); null accepts any (and none). */
  audiences: readonly string[] | null
  /** Refuse tokens without `exp` (REQUIRE_TOKEN_EXP). */
  requireExp: boolean
}

/** Why the claims are unacceptable, or null when they are fine. */
export function claimProblem (payload: Record<string, unknown>, policy: ClaimPolicy): string | null {
  // A date nobody can write down (Infinity, 9e15 s) would throw later, where
  // the expiry is announced: such tokens never get that far.
  for (const claim of DATE_CLAIMS) {
    const value = payload[claim]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_CLAIM_SECONDS) {
      return `invalid token: the ${claim} claim must be seconds since 1970, from 0 to ${MAX_CLAIM_SECONDS} (year 9999)`
    }
  }
  if (policy.requireExp && payload.exp === undefined) {
    return 'invalid token: it has no exp claim; this service only accepts tokens that expire'
  }
  if (policy.issuers !== null) {
    const iss = payload.iss
    if (iss === undefined) return 'invalid token: the iss claim is missing; this service requires the issuer it trusts'
    if (typeof iss !== 'string' || !policy.issuers.includes(iss)) return 'invalid token: the iss claim is not an issuer this service trusts (JWT_ISSUER)'
  }
  if (policy.audiences !== null) {
    const aud = payload.aud
    if (aud === undefined) return 'invalid token: the aud claim is missing; this service requires its own audience'
    const listed = Array.isArray(aud) ? aud : [aud]
    if (!listed.some(item => typeof item === 'string' && policy.audiences!.includes(item))) {
      return 'invalid token: the aud claim does not name this service (JWT_AUDIENCE)'
    }
  }
  return null
}
