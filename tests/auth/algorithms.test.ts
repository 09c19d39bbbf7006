import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { signToken } from '../../src/auth/sign.js'
import { loadConfig } from '../../src/config.js'
import { Client, startServer, TEST_SECRET } from '../helper.js'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()
const rsaPrivate = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ecPublic = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()
const ecPrivate = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

async function outcome (wsUrl: string, jwt: string, t: { teardown (fn: () => void): void }): Promise<string | number> {
  const client = new Client(`${wsUrl}?token=${jwt}`)
  t.teardown(() => { client.ws.terminate() })
  const first = await Promise.race([client.next().then(m => m.status as string), client.closed.then(c => c.code)])
  return first
}

t.test('RS256: a token signed with the private key is accepted; HS256 signed with the public key is not', async t => {
  const server = await startServer(t, { jwt: loadConfig({ JWT_PUBLIC_KEY: rsaPublic }).jwt })
  t.equal(await outcome(server.wsUrl, signToken({ sub: 'a' }, { key: rsaPrivate, algorithm: 'RS256' }), t), 'connected')
  t.equal(await outcome(server.wsUrl, signToken({ sub: 'a' }, { key: rsaPublic, algorithm: 'HS256' }), t), 4401, 'HS/RS confusion is refused')
  t.equal(await outcome(server.wsUrl, signToken({ sub: 'a' }, { key: ecPrivate, algorithm: 'ES256' }), t), 4401, 'another algorithm is refused')
})

t.test('ES256: only ES256 tokens of the configured key are accepted', async t => {
  const server = await startServer(t, { jwt: loadConfig({ JWT_PUBLIC_KEY: ecPublic }).jwt })
  t.equal(await outcome(server.wsUrl, signToken({ sub: 'a' }, { key: ecPrivate, algorithm: 'ES256' }), t), 'connected')
  t.equal(await outcome(server.wsUrl, signToken({ sub: 'a' }, { key: rsaPrivate, algorithm: 'RS256' }), t), 4401)
})

t.test('HS256: tokens with alg none or another HMAC variant are refused', async t => {
  const server = await startServer(t)
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.`
  t.equal(await outcome(server.wsUrl, none, t), 4401)
  const { createSigner } = await import('fast-jwt')
  t.equal(await outcome(server.wsUrl, createSigner({ key: TEST_SECRET, algorithm: 'HS512' })({ sub: 'a' }), t), 4401)
  t.equal(await outcome(server.wsUrl, signToken({ sub: 'a' }, { key: TEST_SECRET }), t), 'connected')
})
