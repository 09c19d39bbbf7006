/**
 * Demo mode: the service plus a simulated camera gateway, in one command.
 *
 *   npm run demo                 (PORT=8001 npm run demo for another port)
 *
 * Starts the service, signs a viewer token and a publisher token with the
 * configured secret (the development secret when JWT_SECRET is unset), lets
 * the simulator publish camera events through the public HTTP API, and
 * prints the dashboard URL with the viewer token. Ctrl-C stops it all.
 */
import type { AddressInfo } from 'node:net'
import { buildApp } from '../src/app.js'
import { signToken } from '../src/auth/sign.js'
import { ConfigError, loadConfig, type Config } from '../src/config.js'
import { CameraSimulator } from './demo/simulator.js'
import { parseCli } from './lib/cli.js'

const TOKEN_TTL_MS = 12 * 3_600_000

// Before anything starts: `npm run demo -- --help` only prints this.
parseCli({
  name: 'demo',
  command: 'npm run demo --',
  summary: `Starts the service with a simulated camera gateway that publishes events, and prints
the dashboard URL with a viewer token. Ctrl-C stops it. It takes no options: the
service's environment variables apply (PORT, default 8000; HOST, default 127.0.0.1;
STATS_INTERVAL_MS, default 1000 here; JWT_SECRET, default the development secret).`,
  options: {},
  examples: ['npm run demo', 'PORT=8001 npm run demo']
})

function fail (message: string): never {
  console.error(message)
  process.exit(1)
}

function readConfig (): Config {
  try {
    return loadConfig({
      ...process.env,
      // Numbers that move within seconds, a quiet log, and local only unless asked otherwise.
      STATS_INTERVAL_MS: process.env.STATS_INTERVAL_MS ?? '1000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      HOST: process.env.HOST ?? '127.0.0.1'
    })
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems.map(problem => `config error: ${problem}`).join('\n'))
    throw err
  }
}

async function main (): Promise<void> {
  const config = readConfig()
  for (const warning of config.warnings) console.warn(`config warning: ${warning}`)
  if (config.NODE_ENV === 'production') fail('the demo is for development: it prints tokens and publishes made-up events; unset NODE_ENV=production')
  if (config.jwt.algorithm !== 'HS256') fail('the demo signs its own tokens and needs a shared secret: unset JWT_PUBLIC_KEY (and set JWT_SECRET or nothing)')

  const app = await buildApp(config)
  try {
    await app.listen({ port: config.PORT, host: config.HOST })
  } catch (err) {
    const code = (err as { code?: string }).code
    fail(code === 'EADDRINUSE'
      ? `port ${config.PORT} is in use: run the demo on another one, e.g. PORT=${config.PORT + 1} npm run demo`
      : `could not listen on ${config.HOST}:${config.PORT}: ${(err as Error).message}`)
  }
  const { port } = app.server.address() as AddressInfo
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  const key = config.jwt.key
  const viewer = signToken({ sub: 'demo-viewer' }, { key, ttlMs: TOKEN_TTL_MS })
  const publisher = signToken({ sub: 'demo-camera-gateway', roles: ['publisher'] }, { key, ttlMs: TOKEN_TTL_MS })

  let lastError = ''
  const simulator = new CameraSimulator({
    url: base,
    token: publisher,
    onError (message) {
      // The same failure repeats for every event: say it once until it changes.
      if (message !== lastError) console.error(`simulator: ${message}`)
      lastError = message
    }
  })
  simulator.start()

  console.log('')
  console.log('  Statistics push service: demo mode')
  console.log('')
  console.log('  Open the dashboard:')
  console.log(`    ${base}/?token=${viewer}`)
  console.log('')
  console.log(`  A simulated camera gateway publishes events to ${base}/api/events as "demo-camera-gateway".`)
  console.log(`  Publish your own:  curl -X POST ${base}/api/events -H 'content-type: application/json' \\`)
  console.log(`    -H 'authorization: Bearer ${publisher}' \\`)
  console.log('    -d \'{"camera_id":"my-camera","event_type":"face_recognized","data":{"person_name":"You"}}\'')
  if (config.jwt.development) console.log('  Tokens are signed with the development secret: never expose this to a network.')
  console.log('  Press Ctrl-C to stop.')
  console.log('')

  let stopping = false
  const stop = (): void => {
    if (stopping) {
      process.exit(1) // a second Ctrl-C: leave now
    }
    stopping = true
    console.log(`\nstopping: ${simulator.accepted} events and alerts published`)
    simulator.stop()
      .then(async () => { await app.close() })
      .then(() => { process.exit(0) }, (err: unknown) => {
        console.error(`stopping failed: ${(err as Error).message}`)
        process.exit(1)
      })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

void main()
