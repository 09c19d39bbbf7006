/**
 * Prints a signed token for the configured key, so the service can be tried
 * in a minute:
 *
 *   npm run token -- --user alice [--roles publisher,admin] [--cameras lobby-1,site-a/*] [--ttl 1h] [--iss I] [--aud A]
 *
 * --cameras puts a `cameras` claim in the token: the holder sees (or, with
 * the publisher role, publishes for) those cameras only; without it, every
 * camera (unless the service sets REQUIRE_CAMERA_SCOPE).
 *
 * --iss and --aud default to the first value of JWT_ISSUER and JWT_AUDIENCE,
 * so a token printed next to the service's environment is accepted by it.
 * HS256 uses JWT_SECRET (or the development secret outside production);
 * for RS256/ES256 pass the private key with --private-key key.pem.
 */
import { readFileSync } from 'node:fs'
import { parseTtl, signToken } from '../src/auth/sign.js'
import { DEVELOPMENT_JWT_SECRET, type JwtAlgorithm } from '../src/config.js'
import { MAX_SCOPE_ENTRIES, MAX_SCOPE_ENTRY_LENGTH, readCameraClaim } from '../src/protocol/camera-scope.js'
import { parseCli, usageError } from './lib/cli.js'

/** Shorter lifetimes would be expired, or nearly, by the time the token is pasted. */
const MIN_TTL_MS = 1000

const values = parseCli({
  name: 'token',
  command: 'npm run token --',
  summary: `Prints a token signed with the service's key (JWT_SECRET, or the development secret
outside production). --iss and --aud default to the first JWT_ISSUER / JWT_AUDIENCE value.`,
  options: {
    user: { type: 'string', short: 'u', arg: '<id>', help: 'the user id (sub claim); required' },
    roles: { type: 'string', short: 'r', arg: '<a,b>', help: 'roles, comma-separated: publisher, admin' },
    cameras: { type: 'string', short: 'c', arg: '<a,b,site/*>', help: 'camera ids or prefixes ending in * the holder may see (default: every camera)' },
    ttl: { type: 'string', short: 't', arg: '<ttl>', default: '1h', help: 'lifetime: seconds, or a number with s, m, h or d, at least 1s' },
    iss: { type: 'string', arg: '<issuer>', help: 'iss claim' },
    aud: { type: 'string', arg: '<audience>', help: 'aud claim' },
    secret: { type: 'string', arg: '<secret>', help: 'HS256 secret instead of JWT_SECRET' },
    'private-key': { type: 'string', arg: '<key.pem>', help: 'sign with this PEM private key (RS256 or ES256) instead of a secret' },
    algorithm: { type: 'enum', values: ['RS256', 'ES256'], help: 'algorithm for --private-key; by default read from the key' }
  },
  examples: ['npm run token -- --user alice', 'npm run token -- --user gateway --roles publisher --ttl 7d', 'npm run token -- --user lobby-screen --cameras lobby-1,site-a/*']
})
function fail (message: string): never {
  return usageError('token', message)
}
if (values.user === undefined || values.user === '') fail('--user expects the user id the token is for, e.g. --user alice')

let ttlMs = 0
try {
  ttlMs = parseTtl(values.ttl)
} catch {}
// Zero (or a few ms) would quietly print a token the service refuses as expired.
if (!Number.isSafeInteger(ttlMs) || ttlMs < MIN_TTL_MS) fail(`--ttl expects a lifetime of at least 1s, such as 90s, 15m, 1h or 7d (plain numbers are seconds), got ${JSON.stringify(values.ttl)}`)

let cameras: string[] | undefined
if (values.cameras !== undefined) {
  cameras = values.cameras.split(',').map(camera => camera.trim()).filter(camera => camera !== '')
  // The service refuses such a token at once: say so here instead.
  const checked = readCameraClaim(cameras, false)
  if (!checked.ok || cameras.length === 0) fail(`--cameras expects 1 to ${MAX_SCOPE_ENTRIES} camera ids or prefixes ending in * (each at most ${MAX_SCOPE_ENTRY_LENGTH} characters), separated by commas`)
}

const roles = (values.roles ?? '').split(',').map(role => role.trim()).filter(role => role !== '')
let key: string
let algorithm: JwtAlgorithm = 'HS256'
if (values['private-key'] !== undefined) {
  try {
    key = readFileSync(values['private-key'], 'utf8')
  } catch (err) {
    fail(`--private-key expects a readable PEM file: ${(err as Error).message}`)
  }
  algorithm = values.algorithm ?? (key.includes('EC PRIVATE') ? 'ES256' : 'RS256')
} else if (values.algorithm !== undefined) {
  fail('--algorithm goes with --private-key; a secret always signs HS256')
} else if (values.secret !== undefined) {
  key = values.secret
} else if (process.env.JWT_SECRET !== undefined && process.env.JWT_SECRET !== '') {
  key = process.env.JWT_SECRET
} else if (process.env.NODE_ENV === 'production') {
  fail('JWT_SECRET is not set; pass --secret or set JWT_SECRET to the secret the service uses')
} else {
  console.error('note: JWT_SECRET is not set; signing with the development secret the service uses by default')
  key = DEVELOPMENT_JWT_SECRET
}

/** The option, else the first value of the service's list variable, else nothing. */
function claim (option: string | undefined, variable: string): string | undefined {
  if (option !== undefined && option !== '') return option
  const first = (process.env[variable] ?? '').split(',').map(value => value.trim()).find(value => value !== '')
  return first
}
const iss = claim(values.iss, 'JWT_ISSUER')
const aud = claim(values.aud, 'JWT_AUDIENCE')

let signed = ''
try {
  signed = signToken({
    sub: values.user,
    ...(roles.length > 0 ? { roles } : {}),
    ...(cameras === undefined ? {} : { cameras }),
    ...(iss === undefined ? {} : { iss }),
    ...(aud === undefined ? {} : { aud })
  }, { key, algorithm, ttlMs })
} catch (err) {
  fail(`could not sign: ${(err as Error).message}`)
}
console.log(signed)
