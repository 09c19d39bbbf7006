import { createHmac, generateKeyPairSync } from 'node:crypto'
import t, { type Test as TapTest } from 'tap'
import fc from 'fast-check'
import { signToken } from '../../src/auth/sign.js'
import { Client, startServer, TEST_SECRET, token, type Server } from '../helper.js'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600

/** A JWT signed by hand, so the header can say anything. */
function handSigned (header: Record<string, unknown>, payload: Record<string, unknown>, hmacKey: string | null): string {
  const input = `${b64(header)}.${b64(payload)}`
  const signature = hmacKey === null ? '' : createHmac(header.alg === 'HS512' ? 'sha512' : 'sha256', hmacKey).update(input).digest('base64url')
  return `${input}.${signature}`
}

/** Each forged token is refused on the socket (4401), over HTTP (401) and as a live refresh (invalid_token). */
async function assertRefused (t: TapTest, server: Server, forged: string, what: string, valid: string = token('alice')): Promise<void> {
  const socket = await Client.open(`${server.wsUrl}?token=${forged}`, t)
  t.equal((await socket.closed).code, 4401, `${what}: socket refused`)
  const http = await fetch(`${server.url}/api/statistics`, { headers: { authorization: `Bearer ${forged}` } })
  t.equal(http.status, 401, `${what}: HTTP refused`)
  const live = await Client.open(`${server.wsUrl}?token=${valid}`, t)
  await live.next(m => m.status === 'connected')
  live.send({ type: 'auth', token: forged })
  t.equal((await live.nextOfType('error')).code, 'invalid_token', `${what}: refresh refused`)
  live.ws.close()
}


t.test('HS256 service: forged tokens are never accepted', async t => {
  const server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 0 })
  const now = Math.floor(Date.now() / 1000)
  const forgeries: Array<[string, string]> = [
    ['wrong key', signToken({ sub: 'alice' }, { key: 'not-the-service-secret-but-long-enough', ttlMs: 60_000 })],
    ['alg none', handSigned({ alg: 'none', typ: 'JWT' }, { sub: 'alice', exp: inAnHour() }, null)],
    ['alg none with a signature', handSigned({ alg: 'none', typ: 'JWT' }, { sub: 'alice', exp: inAnHour() }, TEST_SECRET)],
    ['another HMAC (HS512) with the right secret', handSigned({ alg: 'HS512', typ: 'JWT' }, { sub: 'alice', exp: inAnHour() }, TEST_SECRET)],
    ['expired', token('alice', { ttlMs: -60_000 })],
    ['not yet valid', signToken({ sub: 'alice', nbf: now + 600 }, { key: TEST_SECRET, ttlMs: 3_600_000 })],
    ['missing sub', signToken({} as { sub: string }, { key: TEST_SECRET, ttlMs: 60_000 })],
    ['empty sub', signToken({ sub: '' }, { key: TEST_SECRET, ttlMs: 60_000 })],
    ['payload changed after signing', (() => { const [h, , s] = token('bob').split('.'); return `${h}.${b64({ sub: 'alice', exp: inAnHour() })}.${s}` })()]
  ]
  for (const [what, forged] of forgeries) await assertRefused(t, server, forged, what)
})

t.test('RS256 service: HS/RS confusion and a foreign RSA key are refused', async t => {
  const own = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicPem = own.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const server = await startServer(t, { WS_MESSAGE_RATE_LIMIT: 0, jwt: { algorithm: 'RS256', key: publicPem, development: false } })
  const sign = (key: string): string => signToken({ sub: 'alice' }, { key, algorithm: 'RS256', ttlMs: 60_000 })
  const ownPrivate = own.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const valid = sign(ownPrivate)

  // The classic attack: HS256 with the service's public key as the HMAC secret.
  await assertRefused(t, server, handSigned({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', exp: inAnHour() }, publicPem), 'HS256 signed with the public key', valid)
  await assertRefused(t, server, sign(foreign.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), 'RS256 with a foreign key', valid)
  await assertRefused(t, server, handSigned({ alg: 'none' }, { sub: 'alice', exp: inAnHour() }, null), 'alg none', valid)

  const genuine = await Client.open(`${server.wsUrl}?token=${valid}`, t)
  t.equal((await genuine.next()).status, 'connected', 'a token signed with the right key is accepted (control)')
})

t.test('random strings and random JWT-shaped tokens are never accepted', async t => {
  const server = await startServer(t)
  const segment = fc.oneof(fc.base64String({ maxLength: 200 }).map(s => s.replace(/=/g, '').replace(/\+/g, '-').replace(/\//g, '_')), fc.json().map(b64))
  const tokens = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.tuple(segment, segment, segment).map(parts => parts.join('.')),
    fc.record({ alg: fc.constantFrom('none', 'HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'PS256', 'NONE', 'nOnE'), typ: fc.constant('JWT') })
      .chain(header => fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })).map(payload => handSigned(header, { sub: 'alice', ...payload }, null)))
  )
  fc.assert(fc.property(tokens, forged => server.app.verifyToken(forged).ok === false), { numRuns: 500 })
  t.pass('500 random tokens refused')
})
