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
import { parseArgs } from 'node:util'
import { parseTtl, signToken } from '../src/auth/sign.js'
import { DEVELOPMENT_JWT_SECRET, type JwtAlgorithm } from '../src/config.js'
import { MAX_SCOPE_ENTRIES, MAX_SCOPE_ENTRY_LENGTH, readCameraClaim } from '../src/protocol/camera-scope.js'

const USAGE = 'usage: npm run token -- --user <id> [--roles publisher,admin] [--cameras a,b,site-a/*] [--ttl 1h] [--iss issuer] [--aud audience] [--secret S | --private-key key.pem --algorithm RS256|ES256]'

function fail (message: string): never {
  console.error(message)
  console.error(USAGE)
  process.exit(2)
}

let values
try {
  ({ values } = parseArgs({
    options: {
      user: { type: 'string', short: 'u' },
      roles: { type: 'string', short: 'r' },
      cameras: { type: 'string', short: 'c' },
      ttl: { type: 'string', short: 't', default: '1h' },
      iss: { type: 'string' },
      aud: { type: 'string' },
      secret: { type: 'string' },
      'private-key': { type: 'string' },
      algorithm: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  }))
} catch (err) {
  fail((err as Error).message)
}
if (values.help === true) {
  console.log(USAGE)
  process.exit(0)
}
if (values.user === undefined || values.user === '') fail('--user is required')

let ttlMs: number
try {
  ttlMs = parseTtl(values.ttl ?? '1h')
} catch (err) {
  fail((err as Error).message)
}

let cameras: string[] | undefined
if (values.cameras !== undefined) {
  cameras = values.cameras.split(',').map(camera => camera.trim()).filter(camera => camera !== '')
  // The service refuses such a token at once: say so here instead.
  const checked = readCameraClaim(cameras, false)
  if (!checked.ok || cameras.length === 0) fail(`--cameras must list 1 to ${MAX_SCOPE_ENTRIES} camera ids or prefixes ending in * (each at most ${MAX_SCOPE_ENTRY_LENGTH} characters), separated by commas`)
}

const roles = (values.roles ?? '').split(',').map(role => role.trim()).filter(role => role !== '')
let key: string
let algorithm: JwtAlgorithm = 'HS256'
if (values['private-key'] !== undefined) {
  key = readFileSync(values['private-key'], 'utf8')
  algorithm = (values.algorithm ?? (key.includes('EC PRIVATE') ? 'ES256' : 'RS256')) as JwtAlgorithm
  if (algorithm !== 'RS256' && algorithm !== 'ES256') fail('--algorithm must be RS256 or ES256 with --private-key')
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

console.log(signToken({
  sub: values.user,
  ...(roles.length > 0 ? { roles } : {}),
  ...(cameras === undefined ? {} : { cameras }),
  ...(iss === undefined ? {} : { iss }),
  ...(aud === undefined ? {} : { aud })
}, { key, algorithm, ttlMs }))
