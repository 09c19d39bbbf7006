import { spawnSync } from 'node:child_process'
import t from 'tap'
import { signToken } from '../../src/auth/sign.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { Client, connect, startServer, TEST_SECRET, token, type Server } from '../helper.js'
import { inAnHour, signRaw } from '../hand-signed.js'

const noExp = (sub: string, claims: Record<string, unknown> = {}): string => signRaw(JSON.stringify({ sub, ...claims }))
const withClaims = (claims: Record<string, unknown>): string => signToken({ sub: 'alice', ...claims }, { key: TEST_SECRET, ttlMs: 3_600_000 })

function configProblems (env: Record<string, string>): string[] {
  try {
    loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, ...env })
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

/** Opens a socket with `candidate` and returns its close, or 'connected'. */
async function handshake (server: Server, t: Parameters<typeof connect>[1], candidate: string): Promise<string | { code: number, reason: string }> {
  const client = await Client.open(`${server.wsUrl}?token=${candidate}`, t)
  const first = await client.next().catch(() => null)
  if (first?.status === 'connected') {
    client.ws.close()
    return 'connected'
  }
  return await client.closed
}

t.test('config: REQUIRE_TOKEN_EXP defaults on in production; JWT_ISSUER/JWT_AUDIENCE are comma lists; bad values name the variable', async t => {
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_SECRET }).REQUIRE_TOKEN_EXP, true)
  t.equal(loadConfig({ NODE_ENV: 'development' }).REQUIRE_TOKEN_EXP, false)
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_SECRET, REQUIRE_TOKEN_EXP: 'false' }).REQUIRE_TOKEN_EXP, false)
  const listed = loadConfig({ JWT_ISSUER: 'https://auth.example, https://old-auth.example', JWT_AUDIENCE: 'statistics' })
  t.same(listed.JWT_ISSUER, ['https://auth.example', 'https://old-auth.example'])
  t.same(listed.JWT_AUDIENCE, ['statistics'])
  t.equal(loadConfig({}).JWT_ISSUER, null, 'unset: any issuer')
  t.match(configProblems({ REQUIRE_TOKEN_EXP: 'maybe' }), [/^REQUIRE_TOKEN_EXP="maybe" is not a boolean/])
  t.match(configProblems({ JWT_ISSUER: ' , ' }), [/^JWT_ISSUER=" , " names no value/])
  t.match(configProblems({ JWT_AUDIENCE: ',' }), [/^JWT_AUDIENCE="," names no value/])
})

t.test('REQUIRE_TOKEN_EXP: a token without exp is refused at the handshake, over HTTP and as a refresh, and the old expiry stands', async t => {
  const server = await startServer(t, { REQUIRE_TOKEN_EXP: true, TOKEN_REFRESH_WARNING_MS: 0, WS_MESSAGE_RATE_LIMIT: 0 })
  const forever = noExp('alice')
  const refused = await handshake(server, t, forever)
  t.match(refused, { code: 4401, reason: /no exp claim/ }, 'handshake refused with the claim named')
  const http = await fetch(`${server.url}/api/statistics`, { headers: { authorization: `Bearer ${forever}` } })
  t.equal(http.status, 401)
  t.match(await http.json(), { message: /no exp claim/ })

  const client = await Client.open(`${server.wsUrl}?token=${token('alice', { ttlMs: 2000 })}`, t)
  await client.next(m => m.status === 'connected')
  client.send({ type: 'auth', token: forever })
  const answer = await client.next(m => m.type === 'error' || m.type === 'connection_status')
  t.match(answer, { type: 'error', code: 'invalid_token', message: /no exp claim.*the current token still expires as announced/ })
  const closed = await client.closed
  t.match(closed, { code: 4401, reason: /^token expired/ }, 'the connection still expires with its first token')
})

t.test('REQUIRE_TOKEN_EXP off: a refresh without exp means the connection no longer expires, as connecting with it would', async t => {
  const server = await startServer(t, { REQUIRE_TOKEN_EXP: false })
  t.equal(await handshake(server, t, noExp('alice')), 'connected')
  const client = await connect(server, t, 'alice')
  client.send({ type: 'auth', token: noExp('alice') })
  t.match(await client.next(m => m.status === 'token_refreshed'), { expires_at: null })
})

t.test('JWT_ISSUER and JWT_AUDIENCE: iss and aud are required and checked everywhere a token is', async t => {
  const server = await startServer(t, { JWT_ISSUER: ['https://auth.example', 'https://old-auth.example'], JWT_AUDIENCE: ['statistics'], WS_MESSAGE_RATE_LIMIT: 0 })
  const refusals: Array<[string, string, RegExp]> = [
    ['no iss', withClaims({ aud: 'statistics' }), /the iss claim is missing/],
    ['another iss', withClaims({ iss: 'https://evil.example', aud: 'statistics' }), /the iss claim is not an issuer this service trusts/],
    ['iss not a string', withClaims({ iss: ['https://auth.example'], aud: 'statistics' }), /the iss claim is not an issuer/],
    ['no aud', withClaims({ iss: 'https://auth.example' }), /the aud claim is missing/],
    ['another aud', withClaims({ iss: 'https://auth.example', aud: 'billing' }), /the aud claim does not name this service/],
    ['aud list without this service', withClaims({ iss: 'https://auth.example', aud: ['billing', 'reports'] }), /the aud claim does not name/]
  ]
  const live = await Client.open(`${server.wsUrl}?token=${withClaims({ iss: 'https://auth.example', aud: 'statistics' })}`, t)
  await live.next(m => m.status === 'connected')
  for (const [what, candidate, reason] of refusals) {
    t.match(await handshake(server, t, candidate), { code: 4401, reason }, `${what}: handshake refused`)
    const http = await fetch(`${server.url}/api/statistics`, { headers: { authorization: `Bearer ${candidate}` } })
    t.equal(http.status, 401, `${what}: HTTP refused`)
    t.match(await http.json(), { message: reason })
    live.send({ type: 'auth', token: candidate })
    t.match(await live.next(m => m.type === 'error' || m.status === 'token_refreshed'), { code: 'invalid_token', message: reason }, `${what}: refresh refused`)
  }
  for (const [what, candidate] of [
    ['iss and aud', withClaims({ iss: 'https://auth.example', aud: 'statistics' })],
    ['the second issuer, aud in a list', withClaims({ iss: 'https://old-auth.example', aud: ['billing', 'statistics'] })]
  ]) {
    t.equal(await handshake(server, t, candidate), 'connected', `${what}: admitted`)
    t.equal((await fetch(`${server.url}/api/statistics`, { headers: { authorization: `Bearer ${candidate}` } })).status, 200, `${what}: HTTP accepted`)
  }
})

t.test('a numeric sub and its decimal string are the same user: they share the connection limit', async t => {
  const server = await startServer(t, { MAX_CONNECTIONS_PER_USER: 1, WS_MESSAGE_RATE_LIMIT: 0 })
  const numeric = await Client.open(`${server.wsUrl}?token=${signRaw(`{"sub":42,"exp":${inAnHour()}}`)}`, t)
  t.match(await numeric.next(m => m.status === 'connected'), { user_id: '42' })
  t.match(await handshake(server, t, token('42')), { code: 1008, reason: /connection limit exceeded/ }, 'sub "42" finds the slot of sub 42 taken')
  numeric.send({ type: 'auth', token: token('42') })
  t.match(await numeric.next(m => m.type === 'error' || m.status === 'token_refreshed'), { status: 'token_refreshed' }, 'and may refresh its token')
})

t.test('npm run token: --iss and --aud, defaulting to the first JWT_ISSUER / JWT_AUDIENCE value', async t => {
  const run = (args: string[], env: Record<string, string> = {}): Record<string, unknown> => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { env: { ...process.env, JWT_SECRET: TEST_SECRET, JWT_ISSUER: '', JWT_AUDIENCE: '', ...env }, encoding: 'utf8' })
    t.equal(result.status, 0, result.stderr)
    return JSON.parse(Buffer.from(result.stdout.trim().split('.')[1], 'base64url').toString()) as Record<string, unknown>
  }
  t.match(run(['--user', 'bob', '--iss', 'https://auth.example', '--aud', 'statistics']), { sub: 'bob', iss: 'https://auth.example', aud: 'statistics' })
  t.match(run(['--user', 'bob'], { JWT_ISSUER: 'https://a.example,https://b.example', JWT_AUDIENCE: 'statistics' }), { iss: 'https://a.example', aud: 'statistics' })
  t.notOk('iss' in run(['--user', 'bob']), 'no iss unless asked for')
})
