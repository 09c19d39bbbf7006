import fastifyJwt from '@fastify/jwt'
import { createDecoder } from 'fast-jwt'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { claimProblem, type ClaimPolicy } from '../auth/claims.js'
import type { Principal, VerifyResult } from '../auth/principal.js'
import { readCameraClaim } from '../protocol/camera-scope.js'
import { Errors } from '../errors.js'

// Declared in auth/ so that layers below the plugins can name them.
export type { Principal, VerifyResult }

declare module 'fastify' {
  interface FastifyInstance {
    /** Verifies a token with the configured key and algorithm; never throws. */
    verifyToken (token: string | undefined): VerifyResult
    /** preHandler for HTTP routes: requires a valid Bearer token. */
    authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void>
    /** preHandler factory: requires a role in the token. */
    requireRole (role: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

// Close reasons travel in a WebSocket close frame (at most 123 bytes) and are
// read by people: each says what is wrong and what to do.
const REASONS: Record<string, string> = {
  FAST_JWT_MALFORMED: 'malformed token: expected a JWT (header.payload.signature)',
  FAST_JWT_INVALID_SIGNATURE: 'bad token signature: sign the token with the key this service is configured with',
  FAST_JWT_EXPIRED: 'token expired: get a new token',
  FAST_JWT_INACTIVE: 'token not yet valid: its nbf is in the future',
  FAST_JWT_INVALID_ALGORITHM: 'token algorithm not accepted: sign with the algorithm this service is configured for',
  FAST_JWT_MISSING_SIGNATURE: 'unsigned token: tokens with alg "none" are never accepted',
  FAST_JWT_INVALID_KEY: 'bad token signature: sign the token with the key this service is configured with'
}
export const MISSING_TOKEN_REASON = 'missing token: pass ?token=<JWT> or an Authorization: Bearer header'

/** Reads a token from an `Authorization: Bearer` header. */
export function bearerToken (header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match === null ? undefined : match[1]
}

const decode = createDecoder()

/** The payload of a token whose signature fast-jwt has already checked; null when unreadable. */
function payloadOf (token: string): Record<string, unknown> | null {
  try {
    const payload: unknown = decode(token)
    return payload !== null && typeof payload === 'object' ? payload as Record<string, unknown> : null
  } catch {
    return null
  }
}

export default fp(async function authPlugin (app) {
  const { jwt } = app.config
  await app.register(fastifyJwt, {
    secret: jwt.algorithm === 'HS256' ? jwt.key : { public: jwt.key },
    // Only the algorithm that fits the key is accepted: never "none", never
    // another HMAC variant, never an HMAC signed with a public key.
    verify: { algorithms: [jwt.algorithm], clockTolerance: app.config.JWT_CLOCK_SKEW_MS },
    sign: jwt.algorithm === 'HS256' ? { algorithm: 'HS256' } : undefined
  })

  const policy: ClaimPolicy = {
    issuers: app.config.JWT_ISSUER,
    audiences: app.config.JWT_AUDIENCE,
    requireExp: app.config.REQUIRE_TOKEN_EXP
  }

  app.decorate('verifyToken', function verifyToken (token: string | undefined): VerifyResult {
    if (token === undefined || token === '') return { ok: false, reason: MISSING_TOKEN_REASON }
    let payload: Record<string, unknown>
    try {
      payload = app.jwt.verify<Record<string, unknown>>(token)
    } catch (err) {
      const code = (err as { code?: string }).code ?? ''
      const known = REASONS[code]
      if (known !== undefined) return { ok: false, reason: known }
      // Everything else fast-jwt throws comes after the signature check: a
      // claim of the wrong type, or a date it cannot format (exp -1e309, a
      // RangeError without a code). Say which claim.
      const claims = payloadOf(token)
      const problem = claims === null ? null : claimProblem(claims, policy)
      return { ok: false, reason: problem ?? 'invalid token: it could not be verified' }
    }
    if (payload === null || typeof payload !== 'object') return { ok: false, reason: 'invalid token: the payload must be a JSON object' }
    const problem = claimProblem(payload, policy)
    if (problem !== null) return { ok: false, reason: problem }
    const sub = payload.sub
    if (!((typeof sub === 'string' && sub !== '') || (typeof sub === 'number' && Number.isFinite(sub)))) {
      return { ok: false, reason: 'invalid token: the sub claim (user id) is missing; put the user id in sub' }
    }
    const roles = payload.roles ?? []
    if (!Array.isArray(roles) || !roles.every(role => typeof role === 'string')) {
      return { ok: false, reason: 'invalid token: the roles claim must be an array of strings' }
    }
    const cameras = readCameraClaim(payload.cameras, app.config.REQUIRE_CAMERA_SCOPE)
    if (!cameras.ok) return { ok: false, reason: cameras.reason }
    const exp = payload.exp
    return {
      ok: true,
      principal: {
        // A numeric sub and its decimal string are one user: 42 and "42" share limits and alerts.
        userId: String(sub),
        roles,
        expiresAt: typeof exp === 'number' ? exp * 1000 : null,
        cameras: cameras.scope
      }
    }
  })

  app.decorateRequest('principal', null)

  app.decorate('authenticate', async function authenticate (request: FastifyRequest) {
    const token = bearerToken(request.headers.authorization)
    if (token === undefined) throw new Errors.MissingToken()
    const result = app.verifyToken(token)
    if (!result.ok) throw new Errors.InvalidToken(result.reason)
    request.principal = result.principal
  })

  app.decorate('requireRole', function requireRole (role: string) {
    return async function hasRole (request: FastifyRequest) {
      if (request.principal?.roles.includes(role) !== true) throw new Errors.MissingRole(role)
    }
  })
}, { name: 'auth', dependencies: ['config'] })
