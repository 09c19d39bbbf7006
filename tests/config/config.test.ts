import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from '../../src/config.js'
import type { Setting } from '../../src/config/setting.js'
import { SETTINGS } from '../../src/config/settings.js'

t.test('defaults match the documented values', async t => {
  const config = loadConfig({})
  t.match(config, {
    PORT: 8000,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    STATS_INTERVAL_MS: 5000,
    MAX_CONNECTIONS_PER_USER: 5,
    HEARTBEAT_INTERVAL_MS: 30000,
    MAX_INBOUND_MESSAGE_BYTES: 4096,
    STATS_UPSTREAM_URL: null,
    RATE_LIMIT_MAX: 1000,
    WS_CONNECT_RATE_LIMIT: 300,
    WS_MESSAGE_RATE_LIMIT: 20,
    RESUME_HISTORY: 10_000,
    RESUME_WINDOW_MS: 300_000,
    LIVE_GATE_LIMIT: 1000,
    SHUTDOWN_TIMEOUT_MS: 10_000
  })
  t.same(config.jwt, { algorithm: 'HS256', key: DEVELOPMENT_JWT_SECRET, development: true }, 'development falls back to the development secret')
  t.same(config.warnings, [], 'nothing to warn about')
  t.notOk('REDIS_HISTORY_SIZE' in config, 'one history setting for both modes')
  t.notOk('JWT_SECRET' in config || 'JWT_PUBLIC_KEY' in config, 'the key material is only in jwt')
})

t.test('every default is in the schema, and the schema\'s defaults are what loadConfig returns', async t => {
  const config = loadConfig({}) as unknown as Record<string, unknown>
  for (const [name, setting] of Object.entries(SETTINGS) as Array<[string, Setting]>) {
    if (setting.default === null) continue
    t.same(config[setting.field ?? name], setting.default, name)
    t.equal(setting.documentedDefault, `\`${String(setting.default)}\``, `${name} is documented with its default`)
  }
})

t.test('rate limits are named with their unit; the old names still work, with one warning each', async t => {
  const config = loadConfig({ HTTP_RATE_LIMIT_PER_MINUTE: '7', WS_CONNECT_RATE_LIMIT_PER_MINUTE: '8', WS_MESSAGE_RATE_LIMIT_PER_SECOND: '9' })
  t.match(config, { RATE_LIMIT_MAX: 7, WS_CONNECT_RATE_LIMIT: 8, WS_MESSAGE_RATE_LIMIT: 9, warnings: [] })

  const old = loadConfig({ RATE_LIMIT_MAX: '1', WS_CONNECT_RATE_LIMIT: '2', WS_MESSAGE_RATE_LIMIT: '3' })
  t.match(old, { RATE_LIMIT_MAX: 1, WS_CONNECT_RATE_LIMIT: 2, WS_MESSAGE_RATE_LIMIT: 3 })
  t.same(old.warnings, [
    'RATE_LIMIT_MAX is deprecated; use HTTP_RATE_LIMIT_PER_MINUTE (RATE_LIMIT_MAX will be removed in a later version)',
    'WS_CONNECT_RATE_LIMIT is deprecated; use WS_CONNECT_RATE_LIMIT_PER_MINUTE (WS_CONNECT_RATE_LIMIT will be removed in a later version)',
    'WS_MESSAGE_RATE_LIMIT is deprecated; use WS_MESSAGE_RATE_LIMIT_PER_SECOND (WS_MESSAGE_RATE_LIMIT will be removed in a later version)'
  ])

  const both = loadConfig({ HTTP_RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_MAX: '6' })
  t.equal(both.RATE_LIMIT_MAX, 5, 'the new name wins')
  t.same(both.warnings, ['RATE_LIMIT_MAX is deprecated and ignored because HTTP_RATE_LIMIT_PER_MINUTE is set; remove RATE_LIMIT_MAX'])

  const error = t.throws(() => loadConfig({ WS_MESSAGE_RATE_LIMIT: 'fast' })) as ConfigError
  t.same(error.problems, ['WS_MESSAGE_RATE_LIMIT="fast" is not a whole number; expected messages per second between 0 and 1000000, 0 to disable'], 'a bad value names the variable that was set')
})

t.test('RESUME_HISTORY serves both modes; REDIS_HISTORY_SIZE is its deprecated name', async t => {
  const old = loadConfig({ REDIS_HISTORY_SIZE: '2500' })
  t.equal(old.RESUME_HISTORY, 2500)
  t.same(old.warnings, ['REDIS_HISTORY_SIZE is deprecated; use RESUME_HISTORY (REDIS_HISTORY_SIZE will be removed in a later version)'])
  t.equal(loadConfig({ RESUME_HISTORY: '0', REDIS_URL: 'redis://127.0.0.1:6379' }).RESUME_HISTORY, 0, '0 (no resume) is allowed with Redis too')
  t.match((t.throws(() => loadConfig({ RESUME_HISTORY: '-1' })) as ConfigError).problems, ['RESUME_HISTORY=-1 is out of range; expected messages between 0 and 1000000, 0 disables resume'])
})

t.test('the live gate has its own bound', async t => {
  t.equal(loadConfig({ LIVE_GATE_LIMIT: '250', RESUME_HISTORY: '0' }).LIVE_GATE_LIMIT, 250, 'independent of RESUME_HISTORY')
  t.match((t.throws(() => loadConfig({ LIVE_GATE_LIMIT: '0' })) as ConfigError).problems, [/^LIVE_GATE_LIMIT=0 is out of range; expected messages per connection between 1 and 1000000$/])
})

t.test('messages say what is expected', async t => {
  const error = t.throws(() => loadConfig({ PORT: '70000', TRUST_PROXY: 'sometimes', HEARTBEAT_INTERVAL_MS: '1.5', MAX_SOCKETS: 'many' }, 20000)) as ConfigError
  t.same(error.problems, [
    'PORT=70000 is out of range; expected TCP port between 0 and 65535',
    'HEARTBEAT_INTERVAL_MS="1.5" is not a whole number; expected milliseconds between 100 and 3600000',
    'MAX_SOCKETS="many" is not a whole number; expected WebSockets between 1 and 10000000, or unset to derive it from the open-file limit',
    'TRUST_PROXY="sometimes" is not a boolean; use true or false'
  ])
})

t.test('blank values count as unset', async t => {
  t.match(loadConfig({ PORT: ' ', HOST: '', LOG_LEVEL: '  ', STATS_UPSTREAM_URL: '', JWT_SECRET: '' }), { PORT: 8000, HOST: '127.0.0.1', LOG_LEVEL: 'info', STATS_UPSTREAM_URL: null, jwt: { development: true } })
  t.match(loadConfig({ HOST: ' 127.0.0.1 ', LOG_LEVEL: 'DEBUG', STATS_UPSTREAM_URL: ' http://stats.local/x ' }), { HOST: '127.0.0.1', LOG_LEVEL: 'debug', STATS_UPSTREAM_URL: 'http://stats.local/x' })
})

t.test('every bad variable is named at once', async t => {
  const error = t.throws(() => loadConfig({ PORT: '80a', STATS_INTERVAL_MS: '5', LOG_LEVEL: 'loud', STATS_UPSTREAM_URL: 'ftp://x', WS_MESSAGE_RATE_LIMIT_PER_SECOND: '-1' })) as ConfigError
  t.type(error, ConfigError)
  t.equal(error.problems.length, 5)
  for (const name of ['PORT', 'STATS_INTERVAL_MS', 'LOG_LEVEL', 'STATS_UPSTREAM_URL', 'WS_MESSAGE_RATE_LIMIT_PER_SECOND']) {
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
