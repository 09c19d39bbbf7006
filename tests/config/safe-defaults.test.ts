import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

const SECRET = 'x'.repeat(32)

/** The problems loadConfig names, or [] when it accepts the environment. */
function problems (env: Record<string, string>): string[] {
  try {
    loadConfig(env)
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

t.test('without a configured key the service listens on loopback only', async t => {
  const config = loadConfig({})
  t.equal(config.HOST, '127.0.0.1', 'the development secret is never reachable from other machines by default')
  t.equal(config.HOST_DEFAULTED_TO_LOOPBACK, true, 'server.ts says why in the start-up log')
})

t.test('with a configured secret or public key the default is every interface', async t => {
  t.match(loadConfig({ JWT_SECRET: SECRET }), { HOST: '0.0.0.0', HOST_DEFAULTED_TO_LOOPBACK: false })
  t.match(loadConfig({ JWT_SECRET: SECRET, HOST: '127.0.0.1' }), { HOST: '127.0.0.1', HOST_DEFAULTED_TO_LOOPBACK: false })
})

t.test('a non-loopback HOST with the development secret is refused, with what to set', async t => {
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
    const found = problems({ HOST: host })
    t.equal(found.length, 1, `HOST=${host}: one problem`)
    t.match(found[0], new RegExp(`HOST=${host.replace(/\./g, '\\.')} .*development secret.*set JWT_SECRET`), `HOST=${host} is refused`)
  }
  for (const host of ['127.0.0.1', '127.0.0.2', '::1', '0:0:0:0:0:0:0:1', 'localhost', '[::1]']) {
    t.same(problems({ HOST: host }), [], `HOST=${host} is loopback and allowed`)
  }
})

t.test('a JWT_SECRET shorter than 32 bytes is a warning in development, a refusal in production', async t => {
  const config = loadConfig({ JWT_SECRET: 'abc' })
  t.equal(config.jwt.key, 'abc')
  t.equal(config.warnings.length, 1)
  t.match(config.warnings[0], /JWT_SECRET is 3 bytes.*at least 32.*openssl rand -hex 32/)
  t.notMatch(config.warnings[0], /abc/, 'the warning does not repeat the secret')
  t.same(loadConfig({ JWT_SECRET: SECRET }).warnings, [], 'a 32-byte secret is fine')
  t.match(problems({ NODE_ENV: 'production', JWT_SECRET: 'abc' }), [/JWT_SECRET is shorter than 32 bytes/])
})

t.test('NODE_ENV accepts only known values and names the typo', async t => {
  for (const value of ['development', 'production', 'test']) {
    t.equal(loadConfig({ NODE_ENV: value, JWT_SECRET: SECRET }).NODE_ENV, value)
  }
  const found = problems({ NODE_ENV: 'prod', JWT_SECRET: SECRET })
  t.equal(found.length, 1)
  t.match(found[0], /NODE_ENV="prod" is not .*development, production, test/)
  t.match(found[0], /did you mean production\?/)
  t.match(problems({ NODE_ENV: 'staging', JWT_SECRET: SECRET }), [/NODE_ENV="staging" is not/])
})
