import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helper.js'

t.test('a REDIS_URL that is not a Redis URL is refused by the config check, without echoing it', async t => {
  const err = t.throws(() => loadConfig({ REDIS_URL: 'http://user:hunter2@cache:6379' })) as ConfigError
  t.match(err.problems, [/^REDIS_URL is not a Redis URL; expected redis:\/\//])
  t.notMatch(err.message, /hunter2/, 'a password in the URL is not repeated')
  t.equal(loadConfig({ REDIS_URL: 'redis://:secret@cache:6380/2' }).REDIS_URL, 'redis://:secret@cache:6380/2')
  t.equal(loadConfig({}).REDIS_URL, null, 'no REDIS_URL: one process in memory')
})

t.test('WORKERS > 1 needs REDIS_URL', async t => {
  const err = t.throws(() => loadConfig({ WORKERS: '2' })) as ConfigError
  t.match(err.problems, [/^WORKERS=2 needs REDIS_URL/])
  t.equal(loadConfig({ WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' }).WORKERS, 2)
  t.equal(loadConfig({}).WORKERS, 1)
  t.equal(loadConfig({}).INSTANCE_LEASE_MS, 15_000)
})

t.test('an unreachable Redis stops the start-up with a message that says what to fix', async t => {
  await t.rejects(buildApp(testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), { logger: false }),
    /could not connect to Redis at 127\.0\.0\.1:1 \(REDIS_URL\): connect ECONNREFUSED.*Check that Redis is running/)
})

t.test('the server process exits 1 with that message', async t => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  t.match(stderr, /start-up error: could not connect to Redis at 127\.0\.0\.1:1 \(REDIS_URL\)/)
})
