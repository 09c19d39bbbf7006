import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from '../../src/config.js'

t.test('defaults match the documented values', async t => {
  const config = loadConfig({})
  t.match(config, {
    PORT: 8000,
    HOST: '0.0.0.0',
    LOG_LEVEL: 'info',
    STATS_INTERVAL_MS: 5000,
    MAX_CONNECTIONS_PER_USER: 5,
    HEARTBEAT_INTERVAL_MS: 30000,
    MAX_INBOUND_MESSAGE_BYTES: 4096,
    STATS_UPSTREAM_URL: null,
    RATE_LIMIT_MAX: 1000,
    WS_CONNECT_RATE_LIMIT: 300,
    WS_MESSAGE_RATE_LIMIT: 20
  })
  t.same(config.jwt, { algorithm: 'HS256', key: DEVELOPMENT_JWT_SECRET, development: true }, 'development falls back to the development secret')
})

t.test('every bad variable is named at once', async t => {
  const error = t.throws(() => loadConfig({ PORT: '80a', STATS_INTERVAL_MS: '5', LOG_LEVEL: 'loud', STATS_UPSTREAM_URL: 'ftp://x', WS_MESSAGE_RATE_LIMIT: '-1' })) as ConfigError
  t.type(error, ConfigError)
  t.equal(error.problems.length, 5)
  for (const name of ['PORT', 'STATS_INTERVAL_MS', 'LOG_LEVEL', 'STATS_UPSTREAM_URL', 'WS_MESSAGE_RATE_LIMIT']) {
    t.ok(error.problems.some(problem => problem.startsWith(name)), `${name} is named`)
  }
})

t.test('production needs a secret or a public key', async t => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), { message: /JWT_SECRET or JWT_PUBLIC_KEY must be set when NODE_ENV=production/ })
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' }), { message: /shorter than 32 bytes/ })
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).jwt.development, false)
})

t.test('the algorithm follows the key', async t => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
  t.equal(loadConfig({ JWT_PUBLIC_KEY: rsa }).jwt.algorithm, 'RS256')
  t.equal(loadConfig({ JWT_PUBLIC_KEY: ec }).jwt.algorithm, 'ES256')
  t.equal(loadConfig({ JWT_PUBLIC_KEY: rsa.replace(/\n/g, '\\n') }).jwt.algorithm, 'RS256', 'escaped newlines are accepted')
  t.throws(() => loadConfig({ JWT_PUBLIC_KEY: ed }), { message: /JWT_PUBLIC_KEY is a ed25519 key/ })
  t.throws(() => loadConfig({ JWT_PUBLIC_KEY: 'not a key' }), { message: /not a PEM public key/ })
  t.throws(() => loadConfig({ JWT_PUBLIC_KEY: rsa, JWT_SECRET: 'x' }), { message: /both set/ })
})
